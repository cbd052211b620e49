import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AsyncByteQueue, RecordBatch, RecordBatchFileWriter, type Schema } from 'apache-arrow';
import { CREATED_BY, MANIFEST_FILE, removeIfExists, writeManifest, type Manifest, type SchemaField, type ShardInfo } from './manifest.js';

export const shardFileName = (index: number): string => `part-${String(index).padStart(5, '0')}.arrow`;
const tmpName = (file: string): string => `.${file}.tmp`;
const SHARD_RE = /^part-\d{5,}\.arrow$/;
const TMP_RE = /^\.(part-\d{5,}\.arrow|manifest\.json)\.tmp$/;

export function schemaFields(schema: Schema): SchemaField[] {
  return schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
}

/**
 * Collects the bytes the Arrow writer emits for one batch, so the shard writer can hash them and write them with
 * `await` (backpressure) before building the next batch. Arrow's writer accepts any AsyncByteQueue as its sink.
 */
class CollectingSink extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }
  take(): Uint8Array[] {
    const out = this.chunks;
    this.chunks = [];
    return out;
  }
}

/** One shard file being written under its temporary name. */
class OpenShard {
  private readonly sink = new CollectingSink();
  private readonly writer = new RecordBatchFileWriter();
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  rows = 0;
  private constructor(readonly dir: string, readonly file: string, private readonly fh: FileHandle) {
    this.writer.reset(this.sink);
  }

  static async create(dir: string, file: string): Promise<OpenShard> {
    return new OpenShard(dir, file, await open(path.join(dir, tmpName(file)), 'w'));
  }

  async write(batch: RecordBatch): Promise<void> {
    this.writer.write(batch);
    this.rows += batch.numRows;
    await this.flush();
  }

  private async flush(): Promise<void> {
    for (const chunk of this.sink.take()) {
      this.hash.update(chunk);
      this.bytes += chunk.byteLength;
      await this.fh.write(chunk);
    }
  }

  /** Writes the footer, syncs and renames the file to its final name. */
  async finish(): Promise<ShardInfo> {
    this.writer.close();
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
    await rename(path.join(this.dir, tmpName(this.file)), path.join(this.dir, this.file));
    return { file: this.file, rows: this.rows, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await removeIfExists(path.join(this.dir, tmpName(this.file)));
  }
}

/**
 * Writes a set of shards and, last, their manifest. Protocol (see docs/shards.md): the old manifest goes first,
 * then stale shards and temporary files; each shard is written as `.part-NNNNN.arrow.tmp`, fsynced and renamed;
 * the manifest is written the same way after the last shard. A run that dies at any point leaves no manifest,
 * so the folder never looks complete, and the next run cleans up what it left.
 */
export class ShardSetWriter {
  private current: OpenShard | null = null;
  readonly shards: ShardInfo[] = [];

  constructor(readonly outDir: string, readonly schema: Schema) {}

  async init(): Promise<void> {
    await mkdir(this.outDir, { recursive: true });
    await removeIfExists(path.join(this.outDir, MANIFEST_FILE));
    for (const name of (await readdir(this.outDir)).sort()) {
      if (SHARD_RE.test(name) || TMP_RE.test(name)) await removeIfExists(path.join(this.outDir, name));
    }
  }

  get openRows(): number {
    return this.current?.rows ?? 0;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  async write(batch: RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    this.current ??= await OpenShard.create(this.outDir, shardFileName(this.shards.length));
    await this.current.write(batch);
  }

  /** Closes the open shard, if any; the next batch starts a new one. */
  async roll(): Promise<void> {
    if (!this.current) return;
    const shard = this.current;
    this.current = null;
    this.shards.push(await shard.finish());
  }

  async finish(kind: Manifest['kind'], settings: Record<string, unknown>, stats: Record<string, unknown> | undefined): Promise<Manifest> {
    await this.roll();
    const manifest: Manifest = {
      format: 'pretext-shards',
      version: 1,
      kind,
      schema: schemaFields(this.schema),
      shards: this.shards,
      rows: this.shards.reduce((n, s) => n + s.rows, 0),
      bytes: this.shards.reduce((n, s) => n + s.bytes, 0),
      settings,
      ...(stats ? { stats } : {}),
      createdBy: CREATED_BY,
    };
    await writeManifest(this.outDir, manifest);
    return manifest;
  }

  async abort(): Promise<void> {
    const shard = this.current;
    this.current = null;
    await shard?.abort();
  }
}

import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AsyncByteQueue, RecordBatch, RecordBatchFileWriter, RecordBatchReader, type Schema } from 'apache-arrow';
import { ConfigError } from '@pretext/core';
import { CREATED_BY, MANIFEST_FILE, removeIfExists, sha256File, writeManifest, type Manifest, type SchemaField, type ShardInfo } from './manifest.js';

export const shardFileName = (index: number): string => `part-${String(index).padStart(5, '0')}.arrow`;
const tmpName = (file: string): string => `.${file}.tmp`;
const SHARD_RE = /^part-\d{5,}\.arrow$/;
const TMP_RE = /^\.(part-\d{5,}\.arrow|manifest\.json)\.tmp$/;

/** What a resumed writer keeps of a finished shard: its entry, the sha256 of its ids and its token count. */
type KeptShard = ShardInfo & { ids: string; tokens: number };

/**
 * Reads a finished shard of an interrupted run: rows, size, sha256, the sha256 of its ids and (token shards) the
 * number of tokens in `input_ids`; null if unusable.
 */
async function readFinishedShard(file: string, schema: Schema): Promise<Omit<KeptShard, 'file'> | null> {
  const expected = JSON.stringify(schemaFields(schema));
  const ids = createHash('sha256');
  let rows = 0;
  let tokens = 0;
  const fh = await open(file, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    if (JSON.stringify(schemaFields(reader.schema)) !== expected) return null;
    for await (const batch of reader) {
      const id = batch.getChildAt(0)!;
      for (let i = 0; i < batch.numRows; i++) ids.update(String(id.get(i))).update('\0');
      rows += batch.numRows;
      const input = batch.getChild('input_ids');
      if (input) {
        for (const d of input.data) tokens += d.valueOffsets[d.offset + d.length]! - d.valueOffsets[d.offset]!;
      }
    }
  } catch {
    return null; // truncated or damaged: it is rewritten
  } finally {
    await fh.close();
  }
  return { rows, bytes: (await stat(file)).size, sha256: await sha256File(file), ids: ids.digest('hex'), tokens };
}

/**
 * What a resumed writer skips: the documents already in the kept shards. It checks, shard by shard, that the
 * skipped documents have the same ids as the kept rows, so a resume with different input fails instead of
 * silently mixing two runs.
 */
export class Resume {
  private shard = 0;
  private inShard = 0;
  private hash = createHash('sha256');
  skipped = 0;
  constructor(readonly outDir: string, readonly shards: readonly KeptShard[]) {}

  get rows(): number {
    return this.shards.reduce((n, s) => n + s.rows, 0);
  }

  /** Tokens in the kept shards (token shards; 0 for document shards). */
  get tokens(): number {
    return this.shards.reduce((n, s) => n + s.tokens, 0);
  }

  /** True while `id` belongs to a kept shard (and is then to be skipped). */
  skip(id: string): boolean {
    const current = this.shards[this.shard];
    if (!current) return false;
    this.hash.update(id).update('\0');
    this.skipped++;
    if (++this.inShard === current.rows) {
      if (this.hash.digest('hex') !== current.ids) {
        throw new ConfigError('resume', this.outDir, `the same input as the interrupted run (the documents of ${current.file} differ); rerun without resume`);
      }
      this.shard++;
      this.inShard = 0;
      this.hash = createHash('sha256');
    }
    return true;
  }

  /** Called at the end of the input: fails if it ended inside the kept shards. */
  finish(): void {
    if (this.shard < this.shards.length) {
      throw new ConfigError('resume', this.outDir, `the same input as the interrupted run (the input ended after ${this.skipped} documents, the kept shards hold ${this.rows}); rerun without resume`);
    }
  }
}

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

  /**
   * Prepares the folder. Without `resume`, earlier shards are deleted. With `resume`, the finished shards of an
   * interrupted run (part-00000… in sequence, each a complete Arrow file with this schema) are kept and the returned
   * `Resume` tells the writer how many documents they hold, so it can skip exactly those and continue at the next
   * shard: shard boundaries depend only on the document stream, so the result equals an uninterrupted run.
   */
  async init(resume = false): Promise<Resume> {
    await mkdir(this.outDir, { recursive: true });
    await removeIfExists(path.join(this.outDir, MANIFEST_FILE));
    const names = (await readdir(this.outDir)).sort();
    for (const name of names) if (TMP_RE.test(name)) await removeIfExists(path.join(this.outDir, name));
    const kept: KeptShard[] = [];
    if (resume) {
      for (let i = 0; ; i++) {
        const file = shardFileName(i);
        if (!names.includes(file)) break;
        const info = await readFinishedShard(path.join(this.outDir, file), this.schema);
        if (!info) break;
        kept.push({ file, ...info });
      }
    }
    for (const { ids: _, tokens: __, ...info } of kept) this.shards.push(info);
    const keep = new Set(kept.map((s) => s.file));
    for (const name of names) if (SHARD_RE.test(name) && !keep.has(name)) await removeIfExists(path.join(this.outDir, name));
    return new Resume(this.outDir, kept);
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

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ManifestError, ShardIntegrityError } from '@pretext/core';

export const MANIFEST_FILE = 'manifest.json';

export interface ShardInfo {
  /** File name relative to the manifest's folder, e.g. `part-00000.arrow`. */
  file: string;
  rows: number;
  /** File size in bytes. */
  bytes: number;
  /** Hex sha256 of the whole file. */
  sha256: string;
}

export interface SchemaField {
  name: string;
  /** Arrow type as `DataType.toString()` prints it: `Utf8`, `Int64`, `List<Uint16>`, … */
  type: string;
  nullable: boolean;
}

export interface Manifest {
  format: 'pretext-shards';
  version: 1;
  kind: 'documents' | 'tokens';
  schema: SchemaField[];
  shards: ShardInfo[];
  /** Total rows over all shards. */
  rows: number;
  /** Total file bytes over all shards. */
  bytes: number;
  /** The settings that produced the shards (tool, options, inputs). */
  settings: Record<string, unknown>;
  stats?: Record<string, unknown>;
  /** e.g. `@pretext/shards 0.0.0`. */
  createdBy: string;
}

const pkg = createRequire(import.meta.url)('../package.json') as { name: string; version: string };
export const CREATED_BY = `${pkg.name} ${pkg.version}`;

/** JSON with object keys sorted at every level, so equal manifests are equal bytes. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && (value as object).constructor === Object) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Writes a file via a temporary name + fsync + rename, so readers see the old file or the whole new one. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), stableStringify(manifest));
}

/** Reads and checks `dir/manifest.json`; `ManifestError` when it is missing, not JSON, or not a pretext manifest. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(file, code === 'ENOENT' ? 'no manifest.json (the folder holds no shards, or their writing did not finish)' : `cannot be read (${code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(file, `is not valid JSON (${(error as Error).message})`);
  }
  const m = json as Partial<Manifest>;
  if (!m || typeof m !== 'object' || m.format !== 'pretext-shards') throw new ManifestError(file, 'is not a pretext-shards manifest (format field missing)');
  if (m.version !== 1) throw new ManifestError(file, `has version ${JSON.stringify(m.version)} but this reader knows version 1; upgrade pretext`);
  if (m.kind !== 'documents' && m.kind !== 'tokens') throw new ManifestError(file, `has unknown kind ${JSON.stringify(m.kind)}`);
  if (!Array.isArray(m.schema) || !Array.isArray(m.shards)) throw new ManifestError(file, 'lacks its schema or shard list');
  for (const s of m.shards) {
    if (!s || typeof s.file !== 'string' || path.basename(s.file) !== s.file || typeof s.rows !== 'number' || typeof s.bytes !== 'number' || typeof s.sha256 !== 'string') {
      throw new ManifestError(file, `has a malformed shard entry ${JSON.stringify(s)}`);
    }
  }
  return m as Manifest;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Cheap check: every shard exists with the size the manifest records. */
export async function checkShardSizes(dir: string, manifest: Manifest): Promise<void> {
  for (const shard of manifest.shards) {
    const file = path.join(dir, shard.file);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new ShardIntegrityError(file, 'is missing');
    }
    if (size !== shard.bytes) throw new ShardIntegrityError(file, `has ${size} bytes but the manifest records ${shard.bytes} (truncated or replaced)`);
  }
}

/** Checks every shard's size and sha256 against the manifest; `ShardIntegrityError` names the first bad file. */
export async function verifyShards(dir: string): Promise<void> {
  const manifest = await readManifest(dir);
  await checkShardSizes(dir, manifest);
  for (const shard of manifest.shards) {
    const file = path.join(dir, shard.file);
    const digest = await sha256File(file);
    if (digest !== shard.sha256) throw new ShardIntegrityError(file, `sha256 ${digest} differs from the manifest's ${shard.sha256} (the file was modified or corrupted)`);
  }
}

export async function removeIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

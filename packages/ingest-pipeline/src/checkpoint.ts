import { open, readFile, rename, stat, truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatchReader } from 'apache-arrow';
import { shardFileName } from '@pretext/shards';
import type { Reject } from './rejects.js';
import type { SignatureCheckpoint } from './signatures.js';
import type { RunCounters } from './stats.js';

/** Written next to the shards while a run is in progress; removed when it completes. */
export const CHECKPOINT_FILE = '.ingest-checkpoint.json';
export const DEDUP_LOG_FILE = '.ingest-dedup.log';

/**
 * The state of a run right after a shard was finished: everything a resumed run needs to continue exactly there.
 * `unit`/`item`: the next document to consider is document `item` (after filters) of selected unit `unit`; the
 * unit's own counts (read, skipped, filter drops, errors) are already in `counters`.
 */
export interface Checkpoint {
  version: 1;
  fingerprint: string;
  shards: { file: string; bytes: number; rows: number }[];
  unit: number;
  item: number;
  counters: RunCounters;
  rejects: Reject[];
  dedupLogBytes: number;
  /** With dedup signatures: how far their temporary files were written (fsynced before this checkpoint). */
  signatures?: SignatureCheckpoint;
}

async function fsyncWrite(file: string, content: string | Uint8Array, flag: 'w' | 'a'): Promise<void> {
  const fh = await open(file, flag);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Appends the dedup log words, then writes the checkpoint atomically (temporary name, fsync, rename). */
export async function saveCheckpoint(dir: string, checkpoint: Omit<Checkpoint, 'dedupLogBytes'>, logWords: Uint32Array): Promise<void> {
  const log = path.join(dir, DEDUP_LOG_FILE);
  if (logWords.length > 0) await fsyncWrite(log, new Uint8Array(logWords.buffer, logWords.byteOffset, logWords.byteLength), 'a');
  const dedupLogBytes = await stat(log).then((s) => s.size, () => 0);
  const tmp = path.join(dir, `${CHECKPOINT_FILE}.tmp`);
  await fsyncWrite(tmp, JSON.stringify({ ...checkpoint, dedupLogBytes }), 'w');
  await rename(tmp, path.join(dir, CHECKPOINT_FILE));
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint | null> {
  try {
    const c = JSON.parse(await readFile(path.join(dir, CHECKPOINT_FILE), 'utf8')) as Checkpoint;
    return c.version === 1 ? c : null;
  } catch {
    return null;
  }
}

/** The dedup log up to the checkpoint's length (later bytes came after the checkpoint and are cut off). */
export async function readDedupLog(dir: string, bytes: number): Promise<Uint32Array> {
  const file = path.join(dir, DEDUP_LOG_FILE);
  if (bytes === 0) {
    await removeIfExists(file);
    return new Uint32Array(0);
  }
  await truncate(file, bytes);
  const buf = await readFile(file);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Uint32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}

export async function removeIfExists(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export async function clearCheckpoint(dir: string): Promise<void> {
  await removeIfExists(path.join(dir, CHECKPOINT_FILE));
  await removeIfExists(path.join(dir, `${CHECKPOINT_FILE}.tmp`));
  await removeIfExists(path.join(dir, DEDUP_LOG_FILE));
}

/** True when the finished shards the checkpoint counts on are still there, with the sizes it recorded. */
export async function shardsIntact(dir: string, checkpoint: Checkpoint): Promise<boolean> {
  for (const [i, s] of checkpoint.shards.entries()) {
    if (s.file !== shardFileName(i)) return false;
    const size = await stat(path.join(dir, s.file)).then((x) => x.size, () => -1);
    if (size !== s.bytes) return false;
  }
  return true;
}

/**
 * The documents of finished shards (id, text, source), for the shard writer's resume, which skips as many
 * documents as its kept shards hold and checks their ids. Reading Arrow back is far cheaper than re-ingesting.
 */
export async function* replayShards(dir: string, count: number): AsyncGenerator<{ id: string; text: string; source: string }> {
  for (let i = 0; i < count; i++) {
    const fh = await open(path.join(dir, shardFileName(i)), 'r');
    try {
      const reader = await RecordBatchReader.from(fh);
      await reader.open();
      for await (const batch of reader) {
        const id = batch.getChildAt(0)!;
        const text = batch.getChildAt(1)!;
        const source = batch.getChildAt(2)!;
        for (let r = 0; r < batch.numRows; r++) yield { id: String(id.get(r)), text: String(text.get(r)), source: String(source.get(r)) };
      }
    } finally {
      await fh.close();
    }
  }
}

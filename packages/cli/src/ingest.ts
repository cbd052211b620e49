import type { PretextError } from '@pretext/core';
import { ingest, type FilterOptions, type IngestKind, type IngestStats } from '@pretext/ingest-pipeline';
import type { DedupOptions } from '@pretext/ingest-pipeline';
import type { Manifest } from '@pretext/shards';
import { createBar, formatBytes, formatSeconds } from './progress.js';

export interface IngestOptions {
  out: string;
  strict?: boolean;
  quiet?: boolean;
  workers?: number;
  rank?: number;
  worldSize?: number;
  resume?: boolean;
  filters?: FilterOptions;
  dedup?: DedupOptions;
  rejectsSample?: number;
  unitBytes?: number;
}

export interface IngestReport {
  manifest: Manifest;
  stats: IngestStats;
  errors: PretextError[];
  seconds: number;
}

/** Bad inputs printed one per line; past this many only the count (all of them are in stats.json). */
const MAX_ERROR_LINES = 20;

/**
 * `pretext ingest <kind>`: files, folders and globs into filtered, deduplicated document shards with
 * `@pretext/ingest-pipeline` (worker threads, deterministic, resumable). A bad input is reported on stderr and
 * counted (the rest is kept and the manifest is complete) unless `strict`, which stops at the first; missing or
 * empty inputs stop before anything is written.
 */
export async function ingestCorpus(kind: IngestKind, inputs: string[], options: IngestOptions): Promise<IngestReport> {
  const started = performance.now();
  const errors: PretextError[] = [];
  const bar = createBar('ingest', 1, '{files} files | {docs} docs | {dps} docs/s | {mbps} MB/s', options);
  try {
    const { manifest, stats } = await ingest({
      kind,
      inputs,
      outDir: options.out,
      strict: options.strict ?? false,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.rank !== undefined ? { rank: options.rank } : {}),
      ...(options.worldSize !== undefined ? { worldSize: options.worldSize } : {}),
      ...(options.resume ? { resume: true } : {}),
      ...(options.filters ? { filters: options.filters } : {}),
      ...(options.dedup ? { dedup: options.dedup } : {}),
      ...(options.rejectsSample !== undefined ? { rejectsSample: options.rejectsSample } : {}),
      ...(options.unitBytes !== undefined ? { unitBytes: options.unitBytes } : {}),
      onError: (e) => {
        errors.push(e);
        // Errors are not progress: they are shown even with --quiet (the first few; all are in stats.json).
        if (errors.length <= MAX_ERROR_LINES) process.stderr.write(`${options.quiet ? '' : '\n'}pretext: ${e.message}\n`);
        else if (errors.length === MAX_ERROR_LINES + 1) process.stderr.write('pretext: more input errors follow; all are listed in stats.json\n');
      },
      onProgress: (p) => {
        // The bar counts input bytes (its ETA follows); the @stdlib demo packages have no byte size, so count files.
        const bytes = p.totalBytes > 0;
        bar.setTotal(bytes ? p.totalBytes : p.totalFiles);
        bar.update(bytes ? p.bytes : p.files, {
          files: `${p.files}/${p.totalFiles}`,
          docs: p.docs,
          dps: Math.round(p.docsPerSecond),
          mbps: p.mbPerSecond.toFixed(1),
        });
      },
    });
    return { manifest, stats, errors, seconds: (performance.now() - started) / 1000 };
  } finally {
    bar.stop();
  }
}

/**
 * Books (files, folders, globs and the @stdlib book packages) into document shards: the demo's first step, with the
 * same signature it always had.
 */
export function ingestBooks(inputs: string[], options: IngestOptions): Promise<IngestReport> {
  return ingestCorpus('books', inputs, options);
}

/** The final table: what was read, kept, dropped and why, duplicates, errors, bytes and time. */
export function ingestTable(r: IngestReport, outDir: string): string[] {
  const s = r.stats;
  const n = (x: number) => x.toLocaleString('en-US');
  const signatures = r.manifest.stats?.dedupSignatures as { file: string; rows: number } | undefined;
  const rows: Array<[string, string]> = [
    ['documents read', n(s.read)],
    ['kept', `${n(s.kept)} (${s.read > 0 ? ((100 * s.kept) / s.read).toFixed(1) : '0.0'}%)`],
    ...Object.entries(s.dropped).map(([reason, k]): [string, string] => [`  dropped: ${reason}`, n(k)]),
    ['duplicates (exact / near)', `${n(s.duplicates.exact)} / ${n(s.duplicates.near)}`],
    ...Object.entries(s.skipped).map(([reason, k]): [string, string] => [`  skipped by the reader: ${reason}`, n(k)]),
    ['input errors', `${n(s.errors.count)} in ${n(s.errors.files.length)} file(s)`],
    ['input', `${formatBytes(s.inputBytes)} in ${n(s.files)} file(s), ${n(s.unitsRead)} of ${n(s.units)} work unit(s)${s.worldSize > 1 ? ` (rank ${s.rank} of ${s.worldSize})` : ''}`],
    ['text kept', formatBytes(s.textBytesKept)],
    ['shards', `${r.manifest.shards.length} (${formatBytes(r.manifest.bytes)}) → ${outDir}/manifest.json`],
    ...(signatures
      ? [['dedup signatures', `${n(signatures.rows)} documents → ${outDir}/${signatures.file}; after all ranks: pretext ingest dedup <rank folders> --out DIR`] as [string, string]]
      : []),
    ['time', `${formatSeconds(r.seconds)} on ${s.workers} worker(s): ${Math.round(s.docsPerSecond)} docs/s, ${s.mbPerSecond.toFixed(1)} MB/s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

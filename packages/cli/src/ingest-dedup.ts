import type { Command } from 'commander';
import { globalDedup, type GlobalDedupResult } from '@pretext/ingest-pipeline';
import { createBar, formatBytes, formatSeconds } from './progress.js';

export interface IngestDedupOptions {
  out: string;
  maxShardBytes?: number;
  quiet?: boolean;
}

/**
 * `pretext ingest dedup RANK_DIRS... --out DIR`: the reduce step after a `--rank/--world-size` run. Reads every rank's
 * dedup signatures and writes the documents one machine would have kept, with cross-rank duplicates removed.
 */
export async function ingestDedup(rankDirs: string[], options: IngestDedupOptions): Promise<GlobalDedupResult> {
  const bar = createBar('dedup', 1, '{rows} documents | {kept} kept | {dups} duplicates | {rps} docs/s', options);
  try {
    return await globalDedup({
      inputs: rankDirs,
      outDir: options.out,
      ...(options.maxShardBytes !== undefined ? { maxShardBytes: options.maxShardBytes } : {}),
      onProgress: (p) => {
        bar.setTotal(p.totalRows);
        bar.update(p.rows, { rows: `${p.rows}/${p.totalRows}`, kept: p.kept, dups: p.duplicates.exact + p.duplicates.near, rps: Math.round(p.rowsPerSecond) });
      },
    });
  } finally {
    bar.stop();
  }
}

/** The final table of the reduce step. */
export function ingestDedupTable(r: GlobalDedupResult, outDir: string): string[] {
  const s = r.stats;
  const n = (x: number) => x.toLocaleString('en-US');
  const rows: Array<[string, string]> = [
    ['ranks', n(s.worldSize)],
    ['documents read', n(s.read)],
    ['after filters', n(s.signatureRows)],
    ['kept', `${n(s.kept)} (${s.read > 0 ? ((100 * s.kept) / s.read).toFixed(1) : '0.0'}%)`],
    ['duplicates (exact / near)', `${n(s.duplicates.exact)} / ${n(s.duplicates.near)}`],
    ['  of them across ranks', `${n(s.crossRank.exact)} / ${n(s.crossRank.near)}`],
    ['  near duplicates restored', n(s.restored)],
    ['text kept', formatBytes(s.textBytesKept)],
    ['shards', `${r.manifest.shards.length} (${formatBytes(r.manifest.bytes)}) → ${outDir}/manifest.json`],
    ['time', `${formatSeconds(s.seconds)}: ${Math.round(s.rowsPerSecond)} docs/s, peak memory ${formatBytes(s.memory.peakRssBytes)}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

/** Adds `dedup` under `pretext ingest`. */
export function addIngestDedupCommand(ingest: Command, parse: { int: (name: string, min?: number) => (v: string) => number; quiet: () => boolean | undefined }): void {
  ingest
    .command('dedup')
    .exitOverride()
    .description(
      'the reduce step after a multi-machine run: deduplicate across the --out folders of all ranks (exact and MinHash-LSH, in global order) into one folder equal to a one-machine run',
    )
    .argument('<rank-dirs...>', 'the --out folder of every rank (ranks 0 … world-size − 1, any order)')
    .option('-o, --out <dir>', 'output folder for shards, manifest.json, stats.json and rejects.jsonl (required)')
    .option('--max-shard-bytes <n>', 'text per shard (default 64 MiB, as ingest)', parse.int('--max-shard-bytes', 1))
    .action(async (rankDirs: string[], opts: { out?: string; maxShardBytes?: number }, command: Command) => {
      // `ingest` has an --out of its own, and commander gives a parent's options to the parent wherever they stand.
      const out = opts.out ?? (ingest.opts().out as string | undefined);
      if (out === undefined) return command.error("error: required option '-o, --out <dir>' not specified");
      const r = await ingestDedup(rankDirs, { out, quiet: parse.quiet(), ...(opts.maxShardBytes !== undefined ? { maxShardBytes: opts.maxShardBytes } : {}) });
      for (const line of ingestDedupTable(r, out)) process.stdout.write(`${line}\n`);
    });
}

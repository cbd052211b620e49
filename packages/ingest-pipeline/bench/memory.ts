/**
 * Memory of a run: peak resident set size (all threads) of fresh processes ingesting 1× and 4× the same input, so
 * the part that grows with input size shows; and the dedup tables' bytes per kept document, the one state that
 * grows with the number of documents by design.
 * With --heap-mb M the children run with every thread's V8 heap capped at M MB: a run that finishes under the cap for
 * any input size holds bounded live memory (peak RSS alone also shows garbage V8 has not collected yet).
 * Run: npx tsx --conditions=@pretext/source bench/memory.ts [--copies N] [--workers W] [--heap-mb M]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@pretext/core';
import { Deduplicator } from '../src/dedup.js';
import { ingest } from '../src/index.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

if (args[0] === '--child') {
  // One measurement in a fresh process: maxRSS covers the main thread and the worker threads.
  const [, file, out, workers] = args;
  const r = await ingest({ kind: 'commoncrawl', inputs: [file!], outDir: out!, workers: Number(workers), unitBytes: 256 << 10 });
  process.stdout.write(JSON.stringify({ read: r.stats.read, kept: r.stats.kept, rss: r.stats.memory.peakRssBytes, dedup: r.stats.memory.dedupBytes }));
  process.exit(0);
}

const COPIES = opt('copies', 20);
const WORKERS = opt('workers', 2);
const HEAP_MB = opt('heap-mb', 0);
let root = path.dirname(fileURLToPath(import.meta.url));
while (!existsSync(path.join(root, 'nx.json'))) root = path.dirname(root);
const sample = path.resolve(root, '../shared/corpora/commoncrawl/cc/resiliparse/warcfile.warc.gz');
if (!existsSync(sample)) throw new Error(`${sample} is missing: the benchmark reads the shared samples`);

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-membench-'));
try {
  const bytes = await readFile(sample);
  const rows = [];
  for (const copies of [COPIES, 4 * COPIES]) {
    const file = path.join(tmp, `warc-${copies}.warc.gz`);
    await writeFile(file, Buffer.concat(Array.from({ length: copies }, () => bytes)));
    const heap = HEAP_MB > 0 ? [`--max-old-space-size=${HEAP_MB}`] : [];
    const r = spawnSync(process.execPath, [...heap, '--import', 'tsx', '--conditions=@pretext/source', fileURLToPath(import.meta.url), '--child', file, path.join(tmp, `out-${copies}`), String(WORKERS)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(r.stderr);
    const m = JSON.parse(r.stdout) as { read: number; kept: number; rss: number; dedup: number };
    rows.push({ input: `WARC ×${copies} (${((await stat(file)).size / 1e6).toFixed(1)} MB gz)`, 'docs read': m.read, kept: m.kept, 'peak RSS MB': (m.rss / 1e6).toFixed(0), 'dedup MB': (m.dedup / 1e6).toFixed(2) });
  }
  console.table(rows);

  // Dedup state per kept document, default options (14 bands): measured on 1M random keys.
  const rng = new Rng(1);
  const d = new Deduplicator(true, true, 14);
  const bands = new Uint32Array(28);
  const n = 1_000_000;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < bands.length; k++) bands[k] = rng.nextUint32();
    d.check(rng.nextUint32(), rng.nextUint32(), bands);
    if (i % 100_000 === 0) d.takeLog(); // the run flushes the log at every shard
  }
  console.log(`dedup tables: ${(d.bytes / n).toFixed(0)} bytes per kept document at 1M documents (exact + 14 band keys)`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

/**
 * Memory of the reduce step (`globalDedup`): peak RSS of fresh processes reducing W rank folders of N documents,
 * for growing N and for longer texts at the same N, so what grows with the document count (the dedup tables) and
 * what does not grow with the text (the corpus is streamed) both show.
 *
 * The rank folders are made here, not ingested (ingesting a million documents takes hours on 2 cores): document
 * shards written by `writeDocuments` and signature files written by `SignatureWriter`, with each rank's own verdicts
 * from a `Deduplicator`, as `ingest` writes them. Every 10th document repeats an earlier one (usually on another
 * rank); keys are random 64-bit values (no two distinct documents collide), the worst case for the tables.
 * Run: npx tsx --conditions=@pretext/source bench/global-dedup-memory.ts [--ranks 4] [--docs 50000,200000,800000] [--text 200] [--long-text 4000] [--heap-mb M]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document } from '@pretext/core';
import { writeDocuments } from '@pretext/shards';
import { Deduplicator } from '../src/dedup.js';
import { fmix32 } from '../src/minhash.js';
import { globalDedup } from '../src/index.js';
import { DEDUP_DEFAULTS } from '../src/minhash.js';
import { paramsOf, SignatureWriter } from '../src/signatures.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};

// murmur3's finalizer: random-looking uint32 keys from integers.
const mix = fmix32;

async function makeRank(dir: string, rank: number, W: number, N: number, textBytes: number): Promise<void> {
  const dedup = { ...DEDUP_DEFAULTS };
  const perUnit = 1000;
  const units = Math.ceil(N / perUnit);
  await mkdir(dir, { recursive: true });
  const writer = await SignatureWriter.open(dir, paramsOf(dedup, rank, W), null);
  const local = new Deduplicator(true, true, dedup.bands);
  const bands = new Uint32Array(2 * dedup.bands);
  const stats: Record<string, unknown> = {};
  let read = 0;
  let kept = 0;
  let textBytesKept = 0;
  const dropped: Record<string, number> = {};
  const pad = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(textBytes / 27)).slice(0, textBytes);
  async function* docs(): AsyncGenerator<Document> {
    for (let u = rank; u < units; u += W) {
      for (let item = 0; item < perUnit && u * perUnit + item < N; item++) {
        const g = u * perUnit + item;
        // Every 10th document is a copy of one 1,234 places earlier (most often another rank's).
        const c = g % 10 === 9 && g >= 1234 ? g - 1234 : g;
        const text = `document ${c} ${pad}`;
        const id = createHash('sha256').update(`books\0${text}`).digest('hex').slice(0, 32);
        for (let b = 0; b < bands.length; b++) bands[b] = mix(c * 64 + b + 7);
        const doc: Document = { id, text, source: 'books', meta: { title: `t${c}` } };
        const verdict = local.check(mix(c * 2 + 1), mix(c * 2 + 2), bands);
        await writer.add(u, item, doc, mix(c * 2 + 1), mix(c * 2 + 2), bands, verdict);
        read++;
        if (verdict) {
          dropped[verdict] = (dropped[verdict] ?? 0) + 1;
          continue;
        }
        kept++;
        textBytesKept += Buffer.byteLength(text);
        yield doc;
      }
      local.takeLog();
    }
    const info = await writer.finish();
    Object.assign(stats, {
      files: 1, units, unitsRead: Math.ceil((units - rank) / W), read, kept, dropped, duplicates: { exact: dropped['duplicate-exact'] ?? 0, near: 0 },
      skipped: {}, inputBytes: 0, textBytesRead: 0, textBytesKept, errors: { count: 0, files: [] }, dedupSignatures: info,
    });
  }
  const settings = { tool: '@pretext/ingest-pipeline', kind: 'books', inputs: ['bench'], rank, worldSize: W, strict: false, filters: {}, dedup, rejectsSample: 1000, dedupSignatures: true };
  await writeDocuments(docs(), { outDir: dir, metaFields: [{ name: 'title', type: 'utf8' }], settings, stats });
}

if (args[0] === '--child') {
  const [, out, ...ranks] = args;
  const r = await globalDedup({ inputs: ranks, outDir: out! });
  process.stdout.write(JSON.stringify({ rows: r.stats.signatureRows, kept: r.stats.kept, rss: r.stats.memory.peakRssBytes, dedup: r.stats.memory.dedupBytes, seconds: r.stats.seconds }));
  process.exit(0);
}

const W = Number(opt('ranks', '4'));
const sizes = opt('docs', '50000,200000,800000').split(',').map(Number);
const text = Number(opt('text', '200'));
const longText = Number(opt('long-text', '4000'));
const heapMb = Number(opt('heap-mb', '0'));
const self = fileURLToPath(import.meta.url);
const runs: Array<[number, number]> = [...sizes.map((n): [number, number] => [n, text]), [sizes[1] ?? sizes[0]!, longText]];
console.log(`| documents | text bytes | ranks | kept | peak RSS MB | dedup tables MB | table bytes per kept doc | docs/s |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const [n, t] of runs) {
  const root = await mkdtemp(path.join(tmpdir(), 'pretext-gdedup-bench-'));
  try {
    const ranks = [];
    for (let r = 0; r < W; r++) {
      const dir = path.join(root, `rank-${r}`);
      await makeRank(dir, r, W, n, t);
      ranks.push(dir);
    }
    const child = spawnSync(
      process.execPath,
      [...(heapMb ? [`--max-old-space-size=${heapMb}`] : []), '--import', 'tsx', '--conditions=@pretext/source', self, '--child', path.join(root, 'out'), ...ranks],
      { encoding: 'utf8', cwd: path.dirname(self) },
    );
    if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
    const m = JSON.parse(child.stdout) as { rows: number; kept: number; rss: number; dedup: number; seconds: number };
    console.log(`| ${n} | ${t} | ${W} | ${m.kept} | ${(m.rss / 1e6).toFixed(0)} | ${(m.dedup / 1e6).toFixed(1)} | ${(m.dedup / m.kept).toFixed(0)} | ${Math.round(m.rows / m.seconds)} |`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

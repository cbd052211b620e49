/**
 * Where the time of one document goes: every per-document stage (read, words, language ID, Gopher quality and
 * repetition, dedup keys: normalization, exact key, MinHash; and the main thread's shard writing) timed separately
 * over the same documents, on one core, in this thread. The Gopher rows include finding the words again. The reader's
 * time includes gunzip and WARC parsing (and HTML extraction for WARC). `share` is of the current stages' total
 * (baseline rows excluded). For Common Crawl input the issue's anchor, the `warcio` package parsing the same file, is
 * timed too, and for Wikipedia `lbzip2 -d -n 1` decompressing the same file (the anchor the issue names, on one core):
 * `× anchor` puts each stage against the anchor's cost per document, so on C cores the whole pipeline can reach at
 * most C / (the all-stages row's × anchor) times the anchor's single-core rate. The Gopher rows are given the words
 * (found once in the pipeline too), so the stages add up to a worker's work.
 * Inputs: `wet` the WET sample's record repeated, `wet-distinct` ~4400 distinct real texts as WET records
 * (see bench/inputs.ts), `warc` the resiliparse WARC repeated, `wiki` the enwiki excerpt.
 * Run: npx tsx --conditions=@pretext/source bench/stages.ts [--copies N] [--repeats R]
 *      [--only wet|wet-distinct|warc|wiki] [--baseline DIR]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document } from '@pretext/core';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { readWikipedia } from '@pretext/ingest-wikipedia';
import { writeDocuments } from '@pretext/shards';
import { WARCParser } from 'warcio';
import { gopherQualityScores, gopherRepetitionScores } from '../src/filters.js';
import { identifyLanguage, loadLanguageModel } from '../src/lid.js';
import { DedupKeyer } from '../src/keys.js';
import { MinHasher } from '../src/minhash.js';
import { WordSpans } from '../src/scan.js';
import { childCpu } from '@pretext/test-fixtures';
import { distinctWetFile, wetFile } from './inputs.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const REPEATS = opt('repeats', 3);

let root = path.dirname(fileURLToPath(import.meta.url));
while (!existsSync(path.join(root, 'nx.json'))) root = path.dirname(root);
const corpora = path.resolve(root, '../shared/corpora');
if (!existsSync(corpora)) throw new Error(`${corpora} is missing: the benchmark reads the shared samples`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Median CPU seconds of R runs after one untimed run (JIT warm-up, the character-class table). */
async function cpu(fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    xs.push((c.user + c.system) / 1e6);
  }
  return median(xs);
}

// --baseline DIR: another build of this package (e.g. the code before a change): its stages are timed on the same
// documents in the same run.
const baselineDir = args.includes('--baseline') ? path.resolve(args[args.indexOf('--baseline') + 1]!) : null;
type Filters = typeof import('../src/filters.js');
type MinHash = typeof import('../src/minhash.js');
const old = baselineDir
  ? {
      filters: (await import(path.join(baselineDir, 'dist/filters.js'))) as Filters,
      minhash: (await import(path.join(baselineDir, 'dist/minhash.js'))) as MinHash,
    }
  : null;

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-stages-'));
const t0 = performance.now();
await loadLanguageModel();
console.log(`${loadavg().map((x) => x.toFixed(1)).join(' ')} load; fastText model load ${((performance.now() - t0) / 1000).toFixed(2)} s wall`);
const rows: Array<Record<string, string>> = [];

async function stages(label: string, read: () => AsyncIterable<Document>, anchorOf?: { warc: string } | { bz2: string }): Promise<void> {
  const docs: Document[] = [];
  const tRead = await cpu(async () => {
    docs.length = 0;
    for await (const d of read()) docs.push(d);
  });
  const chars = docs.reduce((n, d) => n + d.text.length, 0);
  const mb = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0) / 1e6;
  const spans = new WordSpans();
  const keyer = new DedupKeyer(new MinHasher());
  const found = docs.map((d) => spans.scan(d.text).copy());
  const t: Record<string, number> = {
    read: tRead,
    'words (spans)': await cpu(() => docs.forEach((d) => spans.scan(d.text))),
    'lid (1000 chars)': await cpu(async () => {
      for (const d of docs) await identifyLanguage(d.text, 1000);
    }),
    'gopher quality': await cpu(() => docs.forEach((d, i) => gopherQualityScores(d.text, undefined, found[i]))),
    'gopher repetition': await cpu(() => docs.forEach((d, i) => gopherRepetitionScores(d.text, undefined, found[i]))),
    'dedup keys (normalize, sha256, 112 MinHash)': await cpu(() => docs.forEach((d) => keyer.keys(d.text))),
    'shard writing (main thread)': await cpu(async () => {
      const out = path.join(tmp, 'shards');
      await rm(out, { recursive: true, force: true });
      await writeDocuments(docs, { outDir: out });
    }),
  };
  // The anchor: warcio reading every record of the same file (records, not documents: a WET file's warcinfo too), or
  // lbzip2 on one core decompressing the dump (its CPU seconds, children's time).
  let anchor: { name: string; seconds: number } | null = null;
  if (anchorOf && 'warc' in anchorOf) {
    let records = 0;
    const seconds = await cpu(async () => {
      records = 0;
      for await (const record of new WARCParser(createReadStream(anchorOf.warc))) {
        await record.readFully(false);
        records++;
      }
    });
    anchor = { name: `warcio parse (anchor; ${records} records)`, seconds };
  } else if (anchorOf && spawnSync('sh', ['-c', 'command -v lbzip2']).status === 0) {
    const xs = Array.from({ length: REPEATS }, () => childCpu(`lbzip2 -d -n 1 -c '${anchorOf.bz2}' > /dev/null`));
    anchor = { name: 'lbzip2 -d -n 1 (anchor)', seconds: xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]! };
  }
  if (old) {
    const { words, gopherQualityScores: q, gopherRepetitionScores: r } = old.filters;
    const { normalizeForDedup, exactKey, MinHasher: H } = old.minhash;
    const h = new H();
    t['baseline: words (split)'] = await cpu(() => docs.forEach((d) => words(d.text)));
    t['baseline: words + gopher quality'] = await cpu(() => docs.forEach((d) => q(d.text, words(d.text))));
    t['baseline: words + gopher repetition'] = await cpu(() => docs.forEach((d) => r(d.text, words(d.text))));
    t['baseline: dedup keys'] = await cpu(() =>
      docs.forEach((d) => {
        const n = normalizeForDedup(d.text);
        exactKey(n);
        h.bandKeys(n);
      }),
    );
  }
  const total = Object.entries(t).reduce((a, [k, b]) => (k.startsWith('baseline') ? a : a + b), 0);
  const perDoc = anchor ? anchor.seconds / docs.length : null;
  const row = (stage: string, s: number) =>
    rows.push({
      input: `${label}: ${docs.length} docs, ${mb.toFixed(1)} MB text`,
      stage,
      'cpu s': s.toFixed(3),
      'µs/doc': ((s / docs.length) * 1e6).toFixed(1),
      'ns/char': ((s / chars) * 1e9).toFixed(1),
      'MB/s': (mb / s).toFixed(1),
      share: stage.startsWith('baseline') || stage === anchor?.name ? '' : `${((100 * s) / total).toFixed(0)}%`,
      '× anchor': perDoc ? (s / docs.length / perDoc).toFixed(2) : '',
    });
  for (const [stage, s] of Object.entries(t)) row(stage, s);
  row('all stages', total);
  if (anchor) row(anchor.name, anchor.seconds);
}

try {
  if (!only || only === 'wet') {
    const copies = opt('copies', 1000);
    const file = await wetFile(corpora, copies, path.join(tmp, 'wet.warc.wet.gz'));
    await stages(`WET ×${copies}`, () => readCommonCrawl(file), { warc: file });
  }
  if (!only || only === 'wet-distinct') {
    const { file, documents } = await distinctWetFile(corpora, path.join(tmp, 'distinct.warc.wet.gz'));
    await stages(`WET of ${documents} distinct texts`, () => readCommonCrawl(file), { warc: file });
  }
  if (!only || only === 'warc') {
    const bytes = await readFile(path.join(corpora, 'commoncrawl/cc/resiliparse/warcfile.warc.gz'));
    const copies = Math.max(1, Math.round(opt('copies', 1000) / 50));
    const file = path.join(tmp, 'warc.warc.gz');
    await writeFile(file, Buffer.concat(Array.from({ length: copies }, () => bytes)));
    await stages(`WARC ×${copies}`, () => readCommonCrawl(file), { warc: file });
  }
  if (!only || only === 'wiki') {
    const file = path.join(corpora, 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
    await stages('enwiki excerpt', () => readWikipedia(file), { bz2: file });
  }
  console.table(rows);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

/**
 * Where the time of one document goes: every per-document stage of a worker (read, words, language ID, Gopher
 * quality and repetition, dedup keys: normalization, exact key, MinHash) timed separately over the same documents,
 * on one core, in this thread. The Gopher rows include finding the words again. The reader's time includes gunzip and WARC parsing (and HTML extraction for WARC).
 * Run: npx tsx --conditions=@pretext/source bench/stages.ts [--copies N] [--repeats R] [--only wet|warc|wiki]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document } from '@pretext/core';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { readWikipedia } from '@pretext/ingest-wikipedia';
import { gopherQualityScores, gopherRepetitionScores } from '../src/filters.js';
import { identifyLanguage, loadLanguageModel } from '../src/lid.js';
import { DedupKeyer } from '../src/keys.js';
import { MinHasher } from '../src/minhash.js';
import { WordSpans } from '../src/scan.js';

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
async function cpu(fn: () => Promise<unknown> | unknown): Promise<number> {
  const xs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    xs.push((c.user + c.system) / 1e6);
  }
  return median(xs);
}

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-stages-'));
const t0 = performance.now();
await loadLanguageModel();
console.log(`${loadavg().map((x) => x.toFixed(1)).join(' ')} load; fastText model load ${((performance.now() - t0) / 1000).toFixed(2)} s wall`);
const rows: Array<Record<string, string>> = [];

async function stages(label: string, read: () => AsyncIterable<Document>): Promise<void> {
  const docs: Document[] = [];
  const tRead = await cpu(async () => {
    docs.length = 0;
    for await (const d of read()) docs.push(d);
  });
  const chars = docs.reduce((n, d) => n + d.text.length, 0);
  const mb = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0) / 1e6;
  const spans = new WordSpans();
  const keyer = new DedupKeyer(new MinHasher());
  const t: Record<string, number> = {
    read: tRead,
    'words (spans)': await cpu(() => docs.forEach((d) => spans.scan(d.text))),
    'lid (1000 chars)': await cpu(async () => {
      for (const d of docs) await identifyLanguage(d.text, 1000);
    }),
    'gopher quality': await cpu(() => docs.forEach((d) => gopherQualityScores(d.text, undefined, spans.scan(d.text)))),
    'gopher repetition': await cpu(() => docs.forEach((d) => gopherRepetitionScores(d.text, undefined, spans.scan(d.text)))),
    'dedup keys (normalize, sha256, 112 MinHash)': await cpu(() => docs.forEach((d) => keyer.keys(d.text))),
  };
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  for (const [stage, s] of Object.entries(t)) {
    rows.push({
      input: `${label}: ${docs.length} docs, ${mb.toFixed(1)} MB text`,
      stage,
      'cpu s': s.toFixed(3),
      'µs/doc': ((s / docs.length) * 1e6).toFixed(1),
      'ns/char': ((s / chars) * 1e9).toFixed(1),
      'MB/s': (mb / s).toFixed(1),
      share: `${((100 * s) / total).toFixed(0)}%`,
    });
  }
}

try {
  if (!only || only === 'wet') {
    const bytes = await readFile(path.join(corpora, 'commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz'));
    const copies = opt('copies', 1000);
    const file = path.join(tmp, 'wet.warc.wet.gz');
    await writeFile(file, Buffer.concat(Array.from({ length: copies }, () => bytes)));
    await stages(`WET ×${copies}`, () => readCommonCrawl(file));
  }
  if (!only || only === 'warc') {
    const bytes = await readFile(path.join(corpora, 'commoncrawl/cc/resiliparse/warcfile.warc.gz'));
    const copies = Math.max(1, Math.round(opt('copies', 1000) / 50));
    const file = path.join(tmp, 'warc.warc.gz');
    await writeFile(file, Buffer.concat(Array.from({ length: copies }, () => bytes)));
    await stages(`WARC ×${copies}`, () => readCommonCrawl(file));
  }
  if (!only || only === 'wiki') {
    const file = path.join(corpora, 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
    await stages('enwiki excerpt', () => readWikipedia(file));
  }
  console.table(rows);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

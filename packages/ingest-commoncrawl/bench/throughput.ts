/**
 * Common Crawl source throughput on one core, against anchors measured in the same run:
 *   gunzip   `gunzip -c` of the same bytes (the floor for any gzip WARC reader)
 *   warcio   the `warcio` npm parser reading every record's content (no text extraction)
 *   ours     readCommonCrawl: WET → documents, WARC → HTML main text → documents
 *   shards   ours piped into @pretext/shards writeDocuments (WET only: the "WET to shards" figure)
 * and, per page, the HTML extractor against @mozilla/readability on linkedom.
 *
 * The samples are small, so each is repeated N times into a temp file. Every figure is the median of R runs.
 * Times are CPU seconds (user + system; for gunzip, of the child process): the development machines are shared,
 * and wall time there measures the neighbours as much as the code. Wall seconds are printed alongside.
 * Run: npx tsx --conditions=@pretext/source bench/throughput.ts [--repeats R] [--wet-copies N] [--warc-copies N]
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readability } from '@mozilla/readability';
import { writeDocuments } from '@pretext/shards';
import { childCpu, corpus, cpuTime, numberOption as opt, type Timing } from '@pretext/test-fixtures';
import { parseHTML } from 'linkedom';
import { WARCParser } from 'warcio';
import { COMMONCRAWL_META_FIELDS, extractMainText, readCommonCrawl } from '../src/index.js';
import { decodeHtml } from '../src/charset.js';
import { gunzipMembers } from '../src/gzip.js';
import { parseHttpResponse } from '../src/http.js';
import { RecordParser } from '../src/warc.js';

const REPEATS = opt('repeats', 5);
const WET_COPIES = opt('wet-copies', 4000);
const WARC_COPIES = opt('warc-copies', 60);

const corpora = corpus('commoncrawl');
/** `fn` returns its item count, and the child's CPU seconds when the work ran in a child process. */
const time = (fn: () => Promise<number | { count: number; cpu: number }>): Promise<Timing> => cpuTime(fn, REPEATS);

async function warcio(file: string): Promise<number> {
  let n = 0;
  for await (const record of new WARCParser(createReadStream(file))) {
    await record.readFully(false);
    n++;
  }
  return n;
}

async function ours(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readCommonCrawl(file, { onError: () => {} })) n++;
  return n;
}

function gunzip(file: string): { count: number; cpu: number } {
  return { count: 0, cpu: childCpu(`gunzip -c '${file}' > /dev/null`) };
}

const tmp = await mkdtemp(path.join(tmpdir(), 'pretext-ccbench-'));
try {
  const rows: Array<Record<string, string>> = [];
  for (const [label, src, copies] of [
    ['WET', 'cc/whirlwind-python/whirlwind.warc.wet.gz', WET_COPIES],
    ['WARC', 'cc/resiliparse/warcfile.warc.gz', WARC_COPIES],
  ] as const) {
    const bytes = await readFile(path.join(corpora, src));
    const file = path.join(tmp, `${label}.gz`);
    await writeFile(file, Buffer.concat(Array.from({ length: copies }, () => bytes)));
    const size = (await stat(file)).size;
    const mb = size / 1e6;
    const g = await time(async () => gunzip(file));
    const w = await time(() => warcio(file));
    const o = await time(() => ours(file));
    const line = (name: string, t: Timing, unit: string) => ({
      input: `${label} ×${copies} (${mb.toFixed(1)} MB gz)`,
      reader: name,
      'MB/s (gz)': (mb / t.seconds).toFixed(1),
      [`${unit}/s`]: t.count ? (t.count / t.seconds).toFixed(0) : '',
      'cpu s': t.seconds.toFixed(3),
      'wall s': t.wall.toFixed(3),
      'vs warcio': (w.seconds / t.seconds).toFixed(2) + '×',
      'vs gunzip': (g.seconds / t.seconds).toFixed(2) + '×',
    });
    rows.push(line('gunzip -c', g, 'docs'), line('warcio (records)', w, 'records'), line('readCommonCrawl (docs)', o, 'docs'));
    if (label === 'WET') {
      const s = await time(async () => {
        const out = path.join(tmp, 'shards');
        const manifest = await writeDocuments(readCommonCrawl(file, { onError: () => {} }), { outDir: out, metaFields: COMMONCRAWL_META_FIELDS });
        await rm(out, { recursive: true, force: true });
        return Number((manifest as unknown as { stats?: { documents?: number } }).stats?.documents ?? 0);
      });
      rows.push(line('WET → shards', s, 'docs'));
    }
  }
  console.table(rows);

  // HTML extraction per page on the real CC and Wget pages.
  const pages: string[] = [];
  for (const src of ['cc/resiliparse/warcfile.warc.gz', 'non-cc/dolma/sample-0000.warc.gz', 'cc/whirlwind-python/whirlwind.warc.gz']) {
    const parser = new RecordParser();
    for await (const e of gunzipMembers(path.join(corpora, src), 0, Infinity)) if (e.kind === 'data') parser.push(e.data, e.position, false);
    for (const e of parser.drain(true)) {
      if (e.kind !== 'record' || e.record.headers.get('warc-type') !== 'response') continue;
      const http = parseHttpResponse(e.record.body, 1 << 30);
      if (http && http.status === 200) pages.push(decodeHtml(http.payload, http.headers.get('content-type')).text);
    }
  }
  const perPage = async (fn: (html: string) => unknown) =>
    (await time(async () => {
      for (const html of pages) fn(html);
      return pages.length;
    })).seconds / pages.length;
  const mine = await perPage((html) => extractMainText(html));
  const readability = await perPage((html) => new Readability(parseHTML(html).document as unknown as Document).parse());
  console.table([
    { extractor: 'extractMainText (htmlparser2)', 'ms/page': (mine * 1000).toFixed(2), 'pages/s': (1 / mine).toFixed(0) },
    { extractor: '@mozilla/readability + linkedom', 'ms/page': (readability * 1000).toFixed(2), 'pages/s': (1 / readability).toFixed(0), ratio: `${(readability / mine).toFixed(1)}× slower` },
  ]);
  console.log(`${pages.length} pages; medians of ${REPEATS} runs; one core (node ${process.version}).`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

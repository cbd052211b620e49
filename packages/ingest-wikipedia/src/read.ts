import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import {
  EmptyInputError,
  InputNotFoundError,
  InvalidTextError,
  MalformedInputError,
  documentId,
  firstInvalidUtf8,
  type Document,
  type PretextError,
} from '@pretext/core';
import type { MetaField } from '@pretext/shards';
import { bz2Blocks, isBz2 } from './bz2.js';
import type { WorkUnit } from './plan.js';
import { wikitextUnitsToText, type WikitextOptions } from './wikitext.js';
import { PageXmlError, parsePageUnits, parseSiteInfo, type SiteInfo } from './xml.js';

export const SOURCE = 'wikipedia';

/** Metadata columns of Wikipedia documents (all nullable). */
export const WIKIPEDIA_META_FIELDS: MetaField[] = [
  { name: 'title', type: 'utf8' },
  { name: 'page_id', type: 'int64' },
  { name: 'revision_id', type: 'int64' },
  { name: 'timestamp', type: 'utf8' },
  { name: 'namespace', type: 'int64' },
  { name: 'language', type: 'utf8' },
  { name: 'file', type: 'utf8' },
];

export type SkipReason = 'redirect' | 'namespace' | 'empty-text';

export interface SkipDetail {
  readonly file: string;
  readonly title: string;
  readonly namespace: number;
  readonly pageId: number | null;
}

export interface ReadProgress {
  /** Bytes of the unit read so far (compressed bytes for .bz2). */
  readonly bytes: number;
  readonly documents: number;
}

export interface ReadWikipediaOptions {
  /** Called for each page that gives no document: redirects, other namespaces, pages with no prose. */
  onSkip?: (reason: SkipReason, detail: SkipDetail) => void;
  /**
   * Called for damaged input (truncated or corrupt bz2, malformed XML, invalid UTF-8, empty file); reading goes
   * on with the next good page. Without `onError`, or with `strict`, the first error is thrown instead.
   * Positions are byte offsets in the file; in a .bz2 file, the offset of the bz2 block holding the page.
   */
  onError?: (error: PretextError) => void;
  strict?: boolean;
  onProgress?: (progress: ReadProgress) => void;
  /** Namespaces kept. Default `[0]` (articles). */
  namespaces?: readonly number[];
}


const PAGE_OPEN = Buffer.from('<page>');
const PAGE_CLOSE = Buffer.from('</page>');
const ROOT_CLOSE = Buffer.from('</mediawiki>');
const MAX_HEADER_BYTES = 4 << 20;

/** Byte chunks of the decompressed dump with where they come from. */
interface Chunk {
  data: Buffer;
  /** File offset of data[0] (plain) or of the bz2 block / start of the gzip file. */
  position: number;
  exact: boolean;
  /** Starts inside the unit: pages beginning here belong to it. */
  owned: boolean;
}

type Kind = 'plain' | 'bz2' | 'gzip';

async function detect(file: string): Promise<{ size: number; kind: Kind }> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new InputNotFoundError(file);
  }
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const kind: Kind = isBz2(head) ? 'bz2' : head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : 'plain';
    return { size, kind };
  } finally {
    await handle.close();
  }
}

type SourceEvent = { kind: 'chunk'; chunk: Chunk } | { kind: 'error'; position: number; reason: string; atEnd: boolean };

/** Decompressed bytes of a unit and what follows it (pulled only as far as the reader needs). */
async function* source(file: string, kind: Kind, start: number, end: number, size: number): AsyncGenerator<SourceEvent> {
  if (kind === 'bz2') {
    for await (const e of bz2Blocks(file, start, end)) {
      if (e.kind === 'error') yield e;
      else yield { kind: 'chunk', chunk: { data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), position: e.position, exact: false, owned: e.owned } };
    }
    return;
  }
  const handle = await open(file, 'r');
  try {
    if (kind === 'gzip') {
      // One stream: not splittable, so the plan gives it one unit.
      const gunzip = createGunzip();
      const stream = handle.createReadStream({ start: 0 });
      stream.pipe(gunzip);
      try {
        for await (const data of gunzip as AsyncIterable<Buffer>) yield { kind: 'chunk', chunk: { data, position: 0, exact: false, owned: true } };
      } catch (error) {
        yield { kind: 'error', position: stream.bytesRead, reason: `gzip: ${(error as Error).message}`, atEnd: true };
      }
      return;
    }
    for (let pos = start; pos < size; ) {
      const want = Math.min(4 << 20, size - pos);
      const data = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(data, 0, want, pos);
      if (bytesRead === 0) return;
      yield { kind: 'chunk', chunk: { data: data.subarray(0, bytesRead), position: pos, exact: true, owned: pos < end } };
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Transcodes UTF-16 (with BOM) chunks to UTF-8 so the byte-level page splitter works unchanged. */
async function* utf16ToUtf8(events: AsyncGenerator<SourceEvent>, first: SourceEvent & { kind: 'chunk' }): AsyncGenerator<SourceEvent> {
  const bigEndian = first.chunk.data[0] === 0xfe;
  const decoder = new TextDecoder(bigEndian ? 'utf-16be' : 'utf-16le');
  const convert = (e: SourceEvent, final: boolean): SourceEvent =>
    e.kind === 'chunk'
      ? { kind: 'chunk', chunk: { ...e.chunk, exact: false, data: Buffer.from(decoder.decode(e.chunk.data, { stream: !final }), 'utf8') } }
      : e;
  yield convert(first, false);
  for await (const e of events) yield convert(e, false);
  yield { kind: 'chunk', chunk: { data: Buffer.from(decoder.decode(), 'utf8'), position: first.chunk.position, exact: false, owned: true } };
}

const headerCache = new Map<string, SiteInfo>();

/** SiteInfo of a dump, read from its start (for units that begin later in the file). */
export async function readSiteInfo(file: string): Promise<SiteInfo> {
  const { size, kind } = await detect(file);
  const key = `${file}\0${size}\0${(await stat(file)).mtimeMs}`;
  const cached = headerCache.get(key);
  if (cached) return cached;
  const parts: Buffer[] = [];
  let length = 0;
  const events = source(file, kind, 0, 1, size);
  try {
    for await (const e of events) {
      if (e.kind === 'error') break;
      parts.push(e.chunk.data);
      length += e.chunk.data.length;
      if (e.chunk.data.indexOf(PAGE_OPEN) >= 0 || length > MAX_HEADER_BYTES) break;
    }
  } finally {
    await events.return(undefined);
  }
  const head = Buffer.concat(parts);
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  const text = utf16 ? new TextDecoder(head[0] === 0xfe ? 'utf-16be' : 'utf-16le').decode(head) : head.toString('utf8');
  const page = text.indexOf('<page>');
  const site = parseSiteInfo(page >= 0 ? text.slice(0, page) : text);
  if (headerCache.size > 64) headerCache.clear();
  headerCache.set(key, site);
  return site;
}

/**
 * Documents (namespace-0 articles by default) from a MediaWiki XML dump or a work unit of one: plain `.xml`,
 * `.bz2` (single- or multistream) or `.gz`, UTF-8 or UTF-16 with BOM, any export-0.x schema.
 */
export async function* readWikipedia(unitOrFile: WorkUnit | string, options: ReadWikipediaOptions = {}): AsyncGenerator<Document> {
  const unit: WorkUnit = typeof unitOrFile === 'string' ? { file: unitOrFile, start: 0, end: Infinity, index: 0 } : unitOrFile;
  const file = unit.file;
  const report = (error: PretextError) => {
    if (options.strict || !options.onError) throw error;
    options.onError(error);
  };
  const { size, kind } = await detect(file);
  if (size === 0) {
    report(new EmptyInputError(file, 'empty file'));
    return;
  }
  const keep = new Set(options.namespaces ?? [0]);
  const end = Math.min(unit.end, size);
  const first = unit.start === 0;
  let site: SiteInfo | null = first ? null : await readSiteInfo(file);
  let textOptions: WikitextOptions = {};
  const setSite = (s: SiteInfo) => {
    site = s;
    const ns6 = s.namespaces.get(6);
    const ns14 = s.namespaces.get(14);
    textOptions = { fileNamespaces: ns6 ? [ns6] : [], categoryNamespaces: ns14 ? [ns14] : [] };
  };
  if (site) setSite(site);

  // Pending bytes and the chunks they came from (to map a page back to a file position and ownership).
  let pending: Buffer = Buffer.alloc(0);
  let pendingBase = 0; // stream offset of pending[0]
  let streamEnd = 0;
  let chunks: Array<{ at: number; chunk: Chunk }> = [];
  let scan = 0; // index in pending where searching resumes
  let pageStart = -1; // index in pending of the current page's `<page>`, or -1 when between pages
  let headerDone = !first;
  let sawRootClose = false;
  let documents = 0;
  let bytes = 0;
  let stop = false;
  let damagedAtEnd = false;

  const chunkAt = (index: number) => {
    const at = pendingBase + index;
    let found = chunks[0]!;
    for (const c of chunks) {
      if (c.at > at) break;
      found = c;
    }
    return found;
  };
  const positionOf = (index: number) => {
    const c = chunkAt(index);
    return c.chunk.exact ? c.chunk.position + (pendingBase + index - c.at) : c.chunk.position;
  };

  const toDocument = (pageBytes: Buffer, at: number): Document | null => {
    const position = positionOf(at);
    if (!isUtf8(pageBytes)) {
      const bad = firstInvalidUtf8(pageBytes);
      report(new InvalidTextError(file, chunkAt(at).chunk.exact ? position + bad : position, 'page is not valid UTF-8'));
      return null;
    }
    let page;
    try {
      // Bytes to code units directly: the page never becomes one string (see parsePageUnits).
      page = parsePageUnits(pageBytes, site!);
    } catch (error) {
      if (!(error instanceof PageXmlError)) throw error;
      report(new MalformedInputError(file, position, `malformed page XML (${error.message})`));
      return null;
    }
    const detail = { file, title: page.title, namespace: page.ns, pageId: page.id };
    if (!keep.has(page.ns)) {
      options.onSkip?.('namespace', detail);
      return null;
    }
    if (page.redirect) {
      options.onSkip?.('redirect', detail);
      return null;
    }
    const text = wikitextUnitsToText(page.units, page.length, textOptions);
    if (!text) {
      options.onSkip?.('empty-text', detail);
      return null;
    }
    return {
      id: documentId(SOURCE, text),
      text,
      source: SOURCE,
      meta: {
        title: page.title,
        page_id: page.id,
        revision_id: page.revisionId,
        timestamp: page.timestamp,
        namespace: page.ns,
        language: site!.language,
        file,
      },
    };
  };

  /** Pages complete in `pending`; sets `stop` once a page starts outside the unit. */
  const drain = function* (): Generator<Document> {
    for (;;) {
      if (pageStart < 0) {
        const open = pending.indexOf(PAGE_OPEN, scan);
        if (open < 0) {
          if (!headerDone && pending.length > MAX_HEADER_BYTES) {
            report(new MalformedInputError(file, 0, 'no <page> in the first 4 MiB: not a MediaWiki XML export'));
            stop = true;
            return;
          }
          if (pending.indexOf(ROOT_CLOSE, scan) >= 0) sawRootClose = true;
          if (headerDone) scan = Math.max(scan, pending.length - ROOT_CLOSE.length);
          return;
        }
        if (!headerDone) {
          const head = pending.toString('utf8', 0, open);
          if (!/<mediawiki\b/.test(head)) {
            report(new MalformedInputError(file, 0, 'not a MediaWiki XML export (no <mediawiki> root element before the first <page>)'));
            stop = true;
            return;
          }
          setSite(parseSiteInfo(head));
          headerDone = true;
        }
        const c = chunkAt(open).chunk;
        if (c.exact ? positionOf(open) >= end : !c.owned) {
          stop = true; // this page and all after it belong to the next unit
          return;
        }
        pageStart = open;
        scan = open + PAGE_OPEN.length;
      }
      const close = pending.indexOf(PAGE_CLOSE, scan);
      if (close < 0) {
        scan = Math.max(scan, pending.length - PAGE_CLOSE.length);
        return;
      }
      const pageEnd = close + PAGE_CLOSE.length;
      const doc = toDocument(pending.subarray(pageStart, pageEnd), pageStart);
      pageStart = -1;
      scan = pageEnd;
      if (doc) {
        documents++;
        yield doc;
      }
    }
  };

  const push = (chunk: Chunk) => {
    // Drop consumed bytes: everything before the current page (or the scan point between pages).
    const keepFrom = pageStart >= 0 ? pageStart : headerDone ? Math.max(0, scan - 16) : 0;
    pending = keepFrom > 0 ? Buffer.concat([pending.subarray(keepFrom), chunk.data]) : pending.length ? Buffer.concat([pending, chunk.data]) : chunk.data;
    pendingBase += keepFrom;
    if (pageStart >= 0) pageStart -= keepFrom;
    scan = Math.max(0, scan - keepFrom);
    chunks = chunks.filter((c, k) => k === chunks.length - 1 || chunks[k + 1]!.at > pendingBase);
    chunks.push({ at: streamEnd, chunk });
    streamEnd += chunk.data.length;
  };

  let events: AsyncGenerator<SourceEvent> = source(file, kind, unit.start, end, size);
  let firstEvent = true;
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      let event = next.value;
      if (firstEvent && first && event.kind === 'chunk') {
        const d = event.chunk.data;
        if ((d[0] === 0xff && d[1] === 0xfe) || (d[0] === 0xfe && d[1] === 0xff)) {
          // UTF-16 with BOM: transcode this and every later chunk to UTF-8.
          events = utf16ToUtf8(events, event);
          const converted = await events.next();
          if (converted.done) break;
          event = converted.value;
        } else if (d[0] === 0xef && d[1] === 0xbb && d[2] === 0xbf) {
          event = { kind: 'chunk', chunk: { ...event.chunk, data: d.subarray(3) } };
        }
      }
      firstEvent = false;
      if (event.kind === 'error') {
        report(new MalformedInputError(file, event.position, event.reason));
        if (event.atEnd) damagedAtEnd = true;
        // The partial page is lost; look for the next <page> in what follows.
        pageStart = -1;
        scan = pending.length;
        continue;
      }
      bytes += kind === 'plain' ? event.chunk.data.length : 0;
      push(event.chunk);
      yield* drain();
      options.onProgress?.({ bytes: kind === 'plain' ? bytes : event.chunk.position - unit.start, documents });
      if (stop) break;
    }
  } finally {
    await events.return(undefined);
  }
  if (stop) return;
  // End of the file: a page still open was cut off; a dump without </mediawiki> was truncated.
  if (damagedAtEnd) return;
  if (pageStart >= 0) {
    report(new MalformedInputError(file, positionOf(pageStart), 'truncated page: the file ends inside <page>'));
    return;
  }
  if (pending.indexOf(ROOT_CLOSE, Math.max(0, scan - ROOT_CLOSE.length)) >= 0) sawRootClose = true;
  if (!headerDone) {
    report(new MalformedInputError(file, 0, 'not a MediaWiki XML export (no <page> found)'));
    return;
  }
  if (!sawRootClose) report(new MalformedInputError(file, size, 'missing </mediawiki>: the dump is truncated after its last complete page'));
}

import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
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
import { readAt, readRange } from './bytes.js';
import { decodeHtml } from './charset.js';
import { extractMainText, type ExtractOptions } from './extract.js';
import { gunzipMembers } from './gzip.js';
import { parseHttpResponse } from './http.js';
import type { WorkUnit } from './plan.js';
import { RecordParser, type RawRecord } from './warc.js';

export const SOURCE = 'commoncrawl';

/** Metadata columns of Common Crawl documents (all nullable). */
export const COMMONCRAWL_META_FIELDS: MetaField[] = [
  { name: 'url', type: 'utf8' },
  { name: 'date', type: 'utf8' },
  { name: 'record_id', type: 'utf8' },
  { name: 'language', type: 'utf8' },
  { name: 'content_type', type: 'utf8' },
  { name: 'file', type: 'utf8' },
];

/** Why a record gave no document. WARC types that never carry page text are reported by their type name. */
export type SkipReason =
  | 'warcinfo'
  | 'request'
  | 'metadata'
  | 'revisit'
  | 'continuation'
  | 'filedesc'
  | 'other-type'
  | 'http-status'
  | 'not-http'
  | 'not-html'
  | 'empty-text'
  | 'too-large';

export interface SkipDetail {
  readonly file: string;
  readonly position: number;
  readonly recordType: string;
  readonly url: string | null;
  readonly contentType?: string | null;
  readonly status?: number;
}

export interface ReadProgress {
  /** Bytes of the unit read from disk so far (compressed bytes for gzip files). */
  readonly bytes: number;
  readonly documents: number;
}

export interface ReadCommonCrawlOptions {
  /** Called for each record that gives no document, with the reason. */
  onSkip?: (reason: SkipReason, detail: SkipDetail) => void;
  /**
   * Called for damaged input (truncated or corrupt gzip, malformed record, invalid UTF-8, empty file); reading
   * goes on with the next good record. Without `onError`, or with `strict`, the first error is thrown instead.
   */
  onError?: (error: PretextError) => void;
  strict?: boolean;
  /** Called after each gzip member or chunk read. */
  onProgress?: (progress: ReadProgress) => void;
  /** Main-text extraction settings for HTML. */
  extract?: ExtractOptions;
  /** Record blocks larger than this are skipped (`too-large`). Default 64 MiB. */
  maxRecordBytes?: number;
}

/**
 * sha256 of `source NUL text`, first 32 hex digits: equal text from the same source gets the same id.
 * `utf8`, when given, must be the UTF-8 bytes of `text` (saves re-encoding a string that came from bytes).
 */

const HTML_TYPES = /^(text\/html|application\/xhtml\+xml|application\/xml\+xhtml|text\/xhtml)$/;
const HTML_SNIFF = /<(?:!doctype\s+html|html|head|body|title|div|p)[\s>]/i;

/** The media type without parameters, lower-cased; null when absent. */
function mediaType(value: string | undefined): string | null {
  if (!value) return null;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type || null;
}

function cleanUri(uri: string | undefined): string | null {
  if (!uri) return null;
  const t = uri.trim();
  // Wget (WARC/1.0 drafts) wraps the URI in angle brackets.
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
}

function arcDate(d: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(d);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}Z` : d;
}

/** Line ends are rare characters, so `indexOf('\\n')` hops are cheaper than a regex test over all of the text. */
function hasSpaceBeforeNewline(t: string): boolean {
  for (let i = t.indexOf('\n'); i > 0; i = t.indexOf('\n', i + 1)) {
    const c = t.charCodeAt(i - 1);
    if (c === 32 || c === 9 || c === 0xa0) return true;
  }
  return false;
}

/** Text as it goes into a document: Unix newlines, no trailing spaces, at most one blank line in a row. */
export function normalizeText(text: string): string {
  // Each rewrite only when needed: most WET text is already clean, and this runs on every document.
  let t = text;
  if (t.includes('\r')) t = t.replace(/\r\n?/g, '\n');
  if (hasSpaceBeforeNewline(t)) t = t.replace(/[ \t\u00a0]+\n/g, '\n');
  if (t.includes('\n\n\n')) t = t.replace(/\n{3,}/g, '\n\n');
  return t.trim();
}

/**
 * Documents from one Common Crawl file or work unit: WET conversion records as they are, WARC/ARC responses
 * with HTML payloads through main-text extraction. Everything else is skipped and reported via `onSkip`.
 */
export async function* readCommonCrawl(unitOrFile: WorkUnit | string, options: ReadCommonCrawlOptions = {}): AsyncGenerator<Document> {
  const unit: WorkUnit = typeof unitOrFile === 'string' ? { file: unitOrFile, start: 0, end: Infinity, index: 0 } : unitOrFile;
  const file = unit.file;
  const report = (error: PretextError) => {
    if (options.strict || !options.onError) throw error;
    options.onError(error);
  };
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new InputNotFoundError(file);
  }
  if (size === 0) {
    report(new EmptyInputError(file, 'empty file'));
    return;
  }
  const maxRecordBytes = options.maxRecordBytes ?? 64 << 20;
  const parser = new RecordParser({ maxRecordBytes });
  const handle = await open(file, 'r');
  const head = await readAt(handle, 0, 2).finally(() => handle.close());
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const end = Math.min(unit.end, size);
  let documents = 0;

  const toDocument = (rec: RawRecord): Document | null => {
    const skip = (reason: SkipReason, extra: Partial<SkipDetail> = {}) => {
      options.onSkip?.(reason, {
        file,
        position: rec.position,
        recordType: rec.format === 'arc' ? 'arc' : (rec.headers.get('warc-type') ?? ''),
        url: cleanUri(rec.headers.get(rec.format === 'arc' ? 'url' : 'warc-target-uri')),
        ...extra,
      });
      return null;
    };
    let url: string | null;
    let date: string | null;
    let recordId: string | null = null;
    let language: string | null = null;
    let text: string;
    let contentType: string | null;
    let utf8: Buffer | undefined; // the bytes `text` was decoded from, while unchanged
    if (rec.format === 'arc') {
      url = rec.headers.get('url') ?? null;
      if (url?.startsWith('filedesc:')) return skip('filedesc');
      date = arcDate(rec.headers.get('archive-date') ?? '');
      const page = htmlText(rec, rec.headers.get('content-type'), true);
      if (page.skip) return skip(page.skip, page);
      text = page.text;
      contentType = page.contentType;
    } else {
      const type = (rec.headers.get('warc-type') ?? '').toLowerCase();
      url = cleanUri(rec.headers.get('warc-target-uri'));
      date = rec.headers.get('warc-date') ?? null;
      recordId = rec.headers.get('warc-record-id') ?? null;
      language = rec.headers.get('warc-identified-content-language') || null;
      if (type === 'conversion') {
        if (!isUtf8(rec.body)) {
          const offset = rec.exact ? rec.position + rec.bodyOffset + firstInvalidUtf8(rec.body) : rec.position;
          report(new InvalidTextError(file, offset, `WET conversion record${rec.exact ? '' : ' in the gzip member'} is not valid UTF-8`));
          return null;
        }
        text = rec.body.toString('utf8');
        utf8 = rec.body;
        contentType = mediaType(rec.headers.get('content-type')) ?? 'text/plain';
      } else if (type === 'response' || type === 'resource') {
        const page = htmlText(rec, type === 'resource' ? rec.headers.get('content-type') : undefined, type === 'response');
        if (page.skip) return skip(page.skip, page);
        text = page.text;
        contentType = page.contentType;
      } else if (type === 'warcinfo' || type === 'request' || type === 'metadata' || type === 'revisit' || type === 'continuation') {
        return skip(type);
      } else {
        return skip('other-type');
      }
    }
    const raw = text;
    text = normalizeText(text);
    if (!text) return skip('empty-text', { contentType });
    return {
      // Normalising only removes characters: the same length means the text is the bytes' decoding.
      id: documentId(SOURCE, text, utf8 && text.length === raw.length ? utf8 : undefined),
      text,
      source: SOURCE,
      meta: { url, date, record_id: recordId, language, content_type: contentType, file },
    };
  };

  /** Main text of an HTML response/resource, or why there is none. */
  const htmlText = (
    rec: RawRecord,
    declaredType: string | undefined,
    http: boolean,
  ): { skip?: SkipReason; text: string; contentType: string | null; status?: number } => {
    let payload = rec.body;
    let httpType: string | undefined = declaredType;
    let status: number | undefined;
    if (http) {
      const response = parseHttpResponse(rec.body, maxRecordBytes);
      if (!response) return { skip: 'not-http', text: '', contentType: mediaType(rec.headers.get('content-type')) };
      status = response.status;
      if (status < 200 || status >= 300) return { skip: 'http-status', text: '', contentType: null, status };
      payload = response.payload;
      httpType = response.headers.get('content-type');
    }
    const identified = mediaType(rec.headers.get('warc-identified-payload-type'));
    const declared = mediaType(httpType);
    let type = identified ?? declared;
    if (!type) {
      // Nothing declared: sniff the first bytes as a browser would.
      if (HTML_SNIFF.test(payload.toString('latin1', 0, Math.min(payload.length, 1024)))) type = 'text/html';
    }
    if (!type || !HTML_TYPES.test(type)) return { skip: 'not-html', text: '', contentType: type, ...(status !== undefined ? { status } : {}) };
    const decoded = decodeHtml(payload, httpType);
    return { text: extractMainText(decoded.text, options.extract), contentType: type };
  };

  const handleEvents = function* (final: boolean): Generator<Document, boolean> {
    for (const event of parser.drain(final)) {
      // Plain files: whatever starts at or after `end` (record, damage) belongs to the next unit.
      const at = event.kind === 'record' ? event.record.position : event.position;
      if (!gzip && at >= end) return true;
      if (event.kind === 'error') {
        report(new MalformedInputError(file, event.position, event.reason));
        continue;
      }
      if (event.kind === 'oversize') {
        options.onSkip?.('too-large', {
          file,
          position: event.position,
          recordType: event.headers.get('warc-type') ?? '',
          url: cleanUri(event.headers.get('warc-target-uri')),
        });
        continue;
      }
      const doc = toDocument(event.record);
      if (doc) {
        documents++;
        yield doc;
      }
    }
    return false;
  };

  if (gzip) {
    let bytes = 0;
    for await (const event of gunzipMembers(file, unit.start, end)) {
      if (event.kind === 'error') {
        parser.discard();
        const resumed = event.resumedAt === null ? '' : `; reading resumed at byte ${event.resumedAt}`;
        report(new MalformedInputError(file, event.position, `${event.reason}${resumed}`));
        continue;
      }
      bytes += event.compressedBytes;
      parser.push(event.data, event.position, false);
      yield* handleEvents(false);
      options.onProgress?.({ bytes, documents });
    }
    yield* handleEvents(true);
  } else {
    let bytes = 0;
    let position = unit.start;
    for await (const chunk of readRange(file, unit.start, size, 4 << 20)) {
      parser.push(chunk, position, true);
      position += chunk.length;
      bytes += chunk.length;
      if (yield* handleEvents(false)) return;
      options.onProgress?.({ bytes, documents });
      // Past the unit's end with nothing pending: the next record belongs to the next unit.
      if (position >= end && parser.pending === 0) return;
    }
    yield* handleEvents(true);
  }
}

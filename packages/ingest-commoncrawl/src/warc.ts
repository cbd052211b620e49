import { findHeaderEnd } from './bytes.js';

/**
 * A streaming WARC (0.17, 0.18, 1.0, 1.1) and ARC (v1/v2) record splitter over decompressed bytes.
 *
 * Hand-written rather than `warcio` (which bench/throughput.ts still runs as the anchor): warcio needed 2.3-3.5×
 * the CPU time of `gunzip` on the same WARC/WET bytes (it inflates with pako in JavaScript and copies every chunk
 * through async iterators), while records here are cut out of zlib's output with `indexOf` and `subarray`: member
 * inflation plus splitting cost ~1.3× gunzip. It also reports exact positions for damaged records and
 * resynchronises on the next record; warcio writes its warnings to the console, which a library must not do.
 */
export interface RawRecord {
  readonly format: 'warc' | 'arc';
  /** `WARC/1.0` etc., or `ARC` */
  readonly version: string;
  /** Header names lower-cased; repeated names joined with `, `. For ARC: url, ip-address, archive-date, content-type. */
  readonly headers: ReadonlyMap<string, string>;
  /** The record block (WARC) or archived bytes (ARC); a view into the decompressed data. */
  readonly body: Buffer;
  /** Byte offset in the file: the record itself (plain files) or the gzip member it starts in. */
  readonly position: number;
  /** True when `position` is the record's own offset (uncompressed input), so `position + bodyOffset` is the body's. */
  readonly exact: boolean;
  /** Bytes from the record start to its body. */
  readonly bodyOffset: number;
}

export type ParseEvent =
  | { kind: 'record'; record: RawRecord }
  | { kind: 'error'; position: number; reason: string }
  /** A record whose block exceeds `maxRecordBytes` was passed over without buffering. */
  | { kind: 'oversize'; position: number; headers: ReadonlyMap<string, string>; length: number };

export interface RecordParserOptions {
  /** Largest record block held in memory; larger ones are skipped (Common Crawl truncates payloads at 1-5 MB). Default 64 MiB. */
  maxRecordBytes?: number;
  /** Longest header block accepted. Default 1 MiB. */
  maxHeaderBytes?: number;
}

const WARC_MAGIC = Buffer.from('WARC/');
const ARC_LINE = /^(\S+) (\S+) (\d{12,14}) (\S*)(?: .*)? (\d+)$/;

interface Segment {
  /** offset in the whole pushed byte stream where this segment starts */
  at: number;
  /** file position of the segment (a gzip member start, or the exact offset of `at` for plain files) */
  position: number;
  exact: boolean;
}

export class RecordParser {
  private buf: Buffer = Buffer.alloc(0);
  /** stream offset of buf[0] */
  private base = 0;
  private i = 0;
  private segments: Segment[] = [];
  private skipping = 0;
  private resync = false;
  private sawArc = false;
  private readonly maxRecordBytes: number;
  private readonly maxHeaderBytes: number;

  constructor(options: RecordParserOptions = {}) {
    this.maxRecordBytes = options.maxRecordBytes ?? 64 << 20;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 1 << 20;
  }

  /** Adds bytes. `position` is the file offset of `data[0]` when `exact`, else the gzip member they came from. */
  push(data: Buffer, position: number, exact: boolean): void {
    if (this.skipping > 0) {
      const n = Math.min(this.skipping, data.length);
      this.skipping -= n;
      this.base += this.buf.length;
      this.buf = Buffer.alloc(0);
      this.i = 0;
      this.base += n;
      if (n === data.length) return;
      data = data.subarray(n);
      if (exact) position += n;
    }
    const streamEnd = this.base + this.buf.length;
    // Keep only the segment covering the unconsumed bytes, plus the new one.
    const cursor = this.base + this.i;
    let keepFrom = 0;
    for (let k = 0; k < this.segments.length; k++) if (this.segments[k]!.at <= cursor) keepFrom = k;
    this.segments = this.segments.slice(keepFrom);
    this.segments.push({ at: streamEnd, position, exact });
    if (this.i >= this.buf.length) {
      this.base = streamEnd;
      this.buf = data;
    } else {
      this.base += this.i;
      this.buf = Buffer.concat([this.buf.subarray(this.i), data]);
    }
    this.i = 0;
  }

  /** Drops a partial record (after a gzip error); parsing restarts at the next record header. */
  discard(): void {
    this.base += this.buf.length;
    this.buf = Buffer.alloc(0);
    this.i = 0;
    this.segments = [];
    this.skipping = 0;
    this.resync = false;
  }

  /** Bytes held that are not yet a complete record. */
  get pending(): number {
    return this.buf.length - this.i + this.skipping;
  }

  private isExact(index: number): boolean {
    const at = this.base + index;
    let exact = false;
    for (const s of this.segments) {
      if (s.at > at) break;
      exact = s.exact;
    }
    return exact;
  }

  private positionOf(index: number): number {
    const at = this.base + index;
    let seg: Segment | undefined;
    for (const s of this.segments) {
      if (s.at > at) break;
      seg = s;
    }
    if (!seg) return 0;
    return seg.exact ? seg.position + (at - seg.at) : seg.position;
  }

  /** Complete records (and errors) available so far. `final` means no more bytes will come. */
  *drain(final = false): Generator<ParseEvent> {
    const buf = this.buf;
    for (;;) {
      if (this.skipping > 0) return;
      // Records are separated by CRLF CRLF (WARC) or LF (ARC); some writers add extra or miscount by 2.
      while (this.i < buf.length && (buf[this.i] === 13 || buf[this.i] === 10)) this.i++;
      if (this.i >= buf.length) return;
      if (this.resync) {
        const found = this.findRecordStart(this.i);
        if (found < 0) {
          // Keep a few bytes: a `WARC/` may straddle the chunk boundary.
          this.i = Math.max(this.i, buf.length - 5);
          if (final) this.i = buf.length;
          return;
        }
        this.i = found;
        this.resync = false;
      }
      const start = this.i;
      const avail = buf.length - start;
      if (avail < 5 && !final) return;
      if (startsWith(buf, start, WARC_MAGIC)) {
        const header = findHeaderEnd(buf, start);
        if (!header) {
          if (final || avail > this.maxHeaderBytes) {
            yield this.fail(start, final ? 'truncated WARC header (the data ends inside it)' : 'WARC header block too long');
            if (final) return;
            continue;
          }
          return;
        }
        const headers = parseHeaderLines(buf.toString('latin1', start, header.end));
        const version = headers.first;
        const lengthText = headers.map.get('content-length');
        const length = lengthText !== undefined && /^\s*\d+\s*$/.test(lengthText) ? Number(lengthText) : NaN;
        if (!Number.isSafeInteger(length)) {
          yield this.fail(start, `WARC record without a valid Content-Length (${JSON.stringify(lengthText ?? null)})`);
          continue;
        }
        const bodyStart = header.next;
        if (length > this.maxRecordBytes) {
          const have = buf.length - bodyStart;
          yield { kind: 'oversize', position: this.positionOf(start), headers: headers.map, length };
          if (have >= length) {
            this.i = bodyStart + length;
            continue;
          }
          this.skipping = length - have;
          this.i = buf.length;
          return;
        }
        if (buf.length - bodyStart < length) {
          if (final) {
            yield this.fail(start, `truncated WARC record (Content-Length ${length}, ${buf.length - bodyStart} bytes present)`);
            this.i = buf.length;
          }
          return;
        }
        this.i = bodyStart + length;
        yield {
          kind: 'record',
          record: {
            format: 'warc',
            version,
            headers: headers.map,
            body: buf.subarray(bodyStart, bodyStart + length),
            position: this.positionOf(start),
            exact: this.isExact(start),
            bodyOffset: bodyStart - start,
          },
        };
        continue;
      }
      // ARC: one header line `URL IP DATE MIME [...] LENGTH`, then LENGTH bytes.
      const lf = buf.indexOf(10, start);
      if (lf < 0) {
        if (final || avail > 64 << 10) {
          yield this.fail(start, 'expected a WARC or ARC record header');
          if (final) return;
          continue;
        }
        return;
      }
      const line = buf.toString('latin1', start, lf).replace(/\r$/, '');
      const m = ARC_LINE.exec(line);
      if (!m) {
        yield this.fail(start, `expected a WARC or ARC record header, found ${JSON.stringify(line.slice(0, 40))}`);
        continue;
      }
      const length = Number(m[5]);
      if (buf.length - (lf + 1) < length) {
        if (final) {
          yield this.fail(start, `truncated ARC record (length ${length}, ${buf.length - lf - 1} bytes present)`);
          this.i = buf.length;
        }
        return;
      }
      this.i = lf + 1 + length;
      this.sawArc = true;
      const map = new Map<string, string>([
        ['url', m[1]!],
        ['ip-address', m[2]!],
        ['archive-date', m[3]!],
        ['content-type', m[4]!],
      ]);
      yield {
        kind: 'record',
        record: {
          format: 'arc',
          version: 'ARC',
          headers: map,
          body: buf.subarray(lf + 1, lf + 1 + length),
          position: this.positionOf(start),
          exact: this.isExact(start),
          bodyOffset: lf + 1 - start,
        },
      };
    }
  }

  private fail(start: number, reason: string): ParseEvent {
    this.resync = true;
    this.i = start + 1;
    return { kind: 'error', position: this.positionOf(start), reason };
  }

  /** Next plausible record start after damage: `WARC/` (or, in ARC files, an ARC header) at a line start. */
  private findRecordStart(from: number): number {
    const buf = this.buf;
    if (this.sawArc) {
      for (let k = from; k < buf.length; ) {
        const lf = buf.indexOf(10, k);
        const end = lf < 0 ? buf.length : lf;
        if ((k === 0 || buf[k - 1] === 10) && (startsWith(buf, k, WARC_MAGIC) || ARC_LINE.test(buf.toString('latin1', k, Math.min(end, k + 4096)).replace(/\r$/, '')))) {
          if (lf >= 0 || startsWith(buf, k, WARC_MAGIC)) return k;
        }
        if (lf < 0) return -1;
        k = lf + 1;
      }
      return -1;
    }
    let k = from;
    for (;;) {
      const w = buf.indexOf(WARC_MAGIC, k);
      if (w < 0) return -1;
      if (w === 0 || buf[w - 1] === 10) return w;
      k = w + 1;
    }
  }
}

function startsWith(buf: Buffer, at: number, magic: Buffer): boolean {
  if (buf.length - at < magic.length) return false;
  for (let k = 0; k < magic.length; k++) if (buf[at + k] !== magic[k]) return false;
  return true;
}

/** Parses `Name: value` lines (folded continuation lines joined); names lower-cased. Also used for HTTP headers. */
export function parseHeaderLines(block: string): { first: string; map: Map<string, string> } {
  const lines = block.split(/\r?\n/);
  const first = (lines[0] ?? '').trim();
  const map = new Map<string, string>();
  let last: string | null = null;
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && last !== null) {
      map.set(last, `${map.get(last)!} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prior = map.get(name);
    map.set(name, prior === undefined ? value : `${prior}, ${value}`);
    last = name;
  }
  return { first, map };
}

import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { findHeaderEnd } from './bytes.js';
import { parseHeaderLines } from './warc.js';

export interface HttpResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: ReadonlyMap<string, string>;
  /** The entity body with transfer and content encodings undone. */
  readonly payload: Buffer;
}

const HTTP = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/;

/** Splits an archived HTTP response into status, headers and decoded payload; null when it is not one. */
export function parseHttpResponse(block: Buffer, maxPayloadBytes: number): HttpResponse | null {
  const head = findHeaderEnd(block, 0);
  if (!head) return null;
  const { first, map } = parseHeaderLines(block.toString('latin1', 0, head.end));
  const m = HTTP.exec(first);
  if (!m) return null;
  let payload = block.subarray(head.next);
  // Crawlers disagree: Common Crawl stores payloads de-chunked and decompressed (keeping or renaming the
  // headers), Wget and browsers store the raw wire bytes. Undo an encoding only when the bytes show it.
  if (/chunked/i.test(map.get('transfer-encoding') ?? '')) payload = dechunk(payload) ?? payload;
  const encoding = (map.get('content-encoding') ?? '').toLowerCase();
  if (encoding) payload = decodeContent(payload, encoding, maxPayloadBytes);
  return { status: Number(m[1]), headers: map, payload };
}

/** Undoes `Transfer-Encoding: chunked`; null when the bytes are not chunked after all. */
export function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const lf = data.indexOf(10, i);
    if (lf < 0) return parts.length ? Buffer.concat(parts) : null; // truncated: keep what arrived
    const sizeText = data.toString('latin1', i, lf).replace(/;.*$/, '').trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return parts.length ? Buffer.concat(parts) : null;
    const size = parseInt(sizeText, 16);
    if (size === 0) return Buffer.concat(parts);
    parts.push(data.subarray(lf + 1, Math.min(data.length, lf + 1 + size)));
    i = lf + 1 + size;
    if (data[i] === 13) i++;
    if (data[i] === 10) i++;
    if (i >= data.length) return Buffer.concat(parts);
  }
}

function decodeContent(payload: Buffer, encoding: string, maxOutputLength: number): Buffer {
  try {
    if (/gzip/.test(encoding) && payload[0] === 0x1f && payload[1] === 0x8b) return gunzipSync(payload, { maxOutputLength, finishFlush: 2 });
    if (encoding === 'deflate') {
      try {
        return inflateSync(payload, { maxOutputLength, finishFlush: 2 });
      } catch {
        return inflateRawSync(payload, { maxOutputLength, finishFlush: 2 });
      }
    }
    if (encoding === 'br') return brotliDecompressSync(payload, { maxOutputLength });
  } catch {
    // Declared but not applied (or truncated beyond use): the bytes are taken as they are.
  }
  return payload;
}

import { createGunzip, crc32, inflateRawSync } from 'node:zlib';
import { open } from 'node:fs/promises';
import { readRange } from './bytes.js';

/**
 * Gzip member by member, with exact positions.
 *
 * Common Crawl (and every well-behaved WARC writer) compresses each record as its own gzip member, so a
 * member is the unit of recovery: a corrupt member costs one record, and reading resumes at the next member.
 * Node's streaming gunzip hides member boundaries and throws away buffered output on error, so members are
 * inflated one at a time with `inflateRawSync` (zlib in C++; `info.engine.bytesWritten` says where the deflate
 * data ended) and their CRC-32 and length are checked against the trailer. A member larger than
 * `maxMemberBytes` compressed (a whole file gzipped as one member) is streamed instead, without recovery.
 */
export type GzipEvent =
  /** The decompressed content of one member that starts at `position` (compressed byte offset). */
  | { kind: 'data'; data: Buffer; position: number; compressedBytes: number }
  /** A bad or truncated member at `position`; `resumedAt` is where good members start again, or null if none. */
  | { kind: 'error'; position: number; reason: string; resumedAt: number | null };

export interface GunzipOptions {
  /** Bytes read from disk at a time. */
  chunkBytes?: number;
  /** Largest member inflated in memory; larger ones are streamed. Default 64 MiB. */
  maxMemberBytes?: number;
  /** Guard against decompression bombs: the most one member may expand to. Default 1 GiB. */
  maxOutputBytes?: number;
}

const MAGIC0 = 0x1f;
const MAGIC1 = 0x8b;
const DEFLATE = 8;

/** Where the deflate data of a gzip member begins, or 'short' if more bytes are needed, or null if not a member. */
export function gzipHeaderLength(buf: Buffer, at: number): number | 'short' | null {
  if (buf.length - at < 10) return 'short';
  if (buf[at] !== MAGIC0 || buf[at + 1] !== MAGIC1 || buf[at + 2] !== DEFLATE) return null;
  const flags = buf[at + 3]!;
  if (flags & 0xe0) return null; // reserved bits must be zero
  let p = at + 10;
  if (flags & 4) {
    if (buf.length < p + 2) return 'short';
    p += 2 + buf.readUInt16LE(p);
  }
  for (const bit of [8, 16]) {
    if (flags & bit) {
      const zero = buf.indexOf(0, p);
      if (zero < 0) return 'short';
      p = zero + 1;
    }
  }
  if (flags & 2) p += 2;
  if (p > buf.length) return 'short';
  return p - at;
}

type Inflated =
  | { ok: true; data: Buffer; next: number }
  | { ok: false; short: true }
  | { ok: false; short: false; reason: string };

/** Inflates the member at `at` in `buf`, checking its trailer; `next` is the index just after the member. */
export function inflateMember(buf: Buffer, at: number, maxOutputBytes: number): Inflated {
  const header = gzipHeaderLength(buf, at);
  if (header === 'short') return { ok: false, short: true };
  if (header === null) return { ok: false, short: false, reason: 'not a gzip member (bad magic or flags)' };
  const dataStart = at + header;
  let data: Buffer;
  let consumed: number;
  try {
    const result = inflateRawSync(buf.subarray(dataStart), { info: true, maxOutputLength: maxOutputBytes }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    data = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'Z_BUF_ERROR') return { ok: false, short: true };
    return { ok: false, short: false, reason: `corrupt deflate data (${e.message})` };
  }
  const trailer = dataStart + consumed;
  if (buf.length < trailer + 8) return { ok: false, short: true };
  if (buf.readUInt32LE(trailer) !== crc32(data) || buf.readUInt32LE(trailer + 4) !== data.length % 2 ** 32) {
    return { ok: false, short: false, reason: 'gzip member CRC-32 or length does not match its trailer' };
  }
  return { ok: true, data, next: trailer + 8 };
}

/**
 * Yields the members that start in `[start, end)` of `file`, decompressed, and an error event for each bad
 * stretch. The last member may run past `end` (plans cut at member starts, so it does not in practice).
 */
export async function* gunzipMembers(
  file: string,
  start: number,
  end: number,
  options: GunzipOptions = {},
): AsyncGenerator<GzipEvent> {
  const chunkBytes = options.chunkBytes ?? 4 << 20;
  const maxMemberBytes = options.maxMemberBytes ?? 64 << 20;
  const maxOutputBytes = options.maxOutputBytes ?? 1 << 30;
  const handle = await open(file, 'r');
  // One reusable input buffer: the unconsumed tail moves to the front and the file is read in behind it.
  // (Allocating and concatenating 4 MiB buffers per chunk cost more than inflating on small-record files.)
  let store = Buffer.allocUnsafe(2 * chunkBytes);
  let buf: Buffer = store.subarray(0, 0);
  let filePos = start;
  let base = start; // file offset of buf[0]
  let eof = false;
  let at = 0; // index in buf of the next member
  // While resynchronising after an error, failed candidates are not reported again.
  let pendingError: { position: number; reason: string } | null = null;

  const more = async (): Promise<boolean> => {
    if (eof) return false;
    let len = buf.length - at;
    if (at > 0) {
      buf.copyWithin(0, at);
      base += at;
      at = 0;
    }
    if (store.length - len < chunkBytes) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * store.length, len + chunkBytes));
      store.copy(bigger, 0, 0, len);
      store = bigger;
    }
    const { bytesRead } = await handle.read(store, len, store.length - len, filePos);
    filePos += bytesRead;
    len += bytesRead;
    buf = store.subarray(0, len);
    if (bytesRead === 0) eof = true;
    return bytesRead > 0;
  };

  try {
    while (base + at < end) {
      if (buf.length - at < 18 && !eof) {
        await more();
        continue;
      }
      if (buf.length === at) break;
      const result = inflateMember(buf, at, maxOutputBytes);
      if (result.ok) {
        if (pendingError) {
          yield { kind: 'error', ...pendingError, resumedAt: base + at };
          pendingError = null;
        }
        yield { kind: 'data', data: result.data, position: base + at, compressedBytes: result.next - at };
        at = result.next;
        continue;
      }
      if (result.short) {
        if (!eof && buf.length - at <= maxMemberBytes) {
          await more();
          continue;
        }
        if (!eof) {
          // A huge member: stream it (and whatever follows, since its end cannot be found cheaply).
          if (pendingError) {
            yield { kind: 'error', ...pendingError, resumedAt: base + at };
            pendingError = null;
          }
          yield* streamRest(file, base + at, chunkBytes);
          return;
        }
        pendingError ??= { position: base + at, reason: 'truncated gzip member (the file ends inside it)' };
        break;
      }
      // Bad member: report once, then look for the next member header and try again.
      pendingError ??= { position: base + at, reason: result.reason };
      let from = at + 1;
      let found = -1;
      for (;;) {
        found = findMagic(buf, from);
        if (found >= 0) break;
        // Keep the last two bytes: a magic may straddle the chunk boundary.
        at = Math.max(from, buf.length - 2);
        if (base + at >= end || !(await more())) break;
        from = at;
      }
      if (found < 0) {
        at = buf.length;
        break;
      }
      at = found;
    }
    if (pendingError) yield { kind: 'error', ...pendingError, resumedAt: null };
  } finally {
    await handle.close();
  }
}

function findMagic(buf: Buffer, from: number): number {
  let i = buf.indexOf(MAGIC0, from);
  while (i >= 0 && i + 2 < buf.length) {
    if (buf[i + 1] === MAGIC1 && buf[i + 2] === DEFLATE) return i;
    i = buf.indexOf(MAGIC0, i + 1);
  }
  return -1;
}

async function* streamRest(file: string, position: number, chunkBytes: number): AsyncGenerator<GzipEvent> {
  const gunzip = createGunzip();
  const source = readRange(file, position, Infinity, chunkBytes);
  let fed = position;
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        fed += chunk.length;
        if (!gunzip.write(chunk)) await new Promise<void>((resolve) => gunzip.once('drain', resolve));
      }
      gunzip.end();
    } catch (error) {
      gunzip.destroy(error as Error);
    }
  })();
  try {
    for await (const data of gunzip as AsyncIterable<Buffer>) {
      yield { kind: 'data', data, position, compressedBytes: 0 };
    }
  } catch (error) {
    yield { kind: 'error', position: fed, reason: `gzip stream: ${(error as Error).message}`, resumedAt: null };
  }
  await feeding;
}

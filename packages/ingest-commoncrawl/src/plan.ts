import { open, stat, type FileHandle } from 'node:fs/promises';
import { constants, inflateRawSync } from 'node:zlib';
import { ConfigError, InputNotFoundError } from '@pretext/core';
import { findHeaderEnd, readAt } from './bytes.js';
import { gzipHeaderLength, inflateMember } from './gzip.js';
import { parseHeaderLines } from './warc.js';

/** A byte range of one file holding whole records (gzip members or, uncompressed, whole WARC records). */
export interface WorkUnit {
  readonly file: string;
  /** First byte (a record or gzip member start). */
  readonly start: number;
  /** One past the last byte; records that start before it belong to this unit. */
  readonly end: number;
  /** Position of this unit in the file's plan, from 0. */
  readonly index: number;
}

export interface PlanOptions {
  /** Approximate compressed bytes per unit. Default 64 MiB (a Common Crawl WARC of ~1 GiB gives ~16 units). */
  targetBytes?: number;
}

const ARC_LINE = /^(\S+) (\S+) (\d{12,14}) (\S*)(?: .*)? (\d+)\r?$/;

/** True if decompressed member data starts a WARC or ARC record. */
function startsRecord(data: Buffer): boolean {
  if (data.subarray(0, 5).toString('latin1') === 'WARC/') return true;
  const lf = data.indexOf(10);
  return lf > 0 && ARC_LINE.test(data.toString('latin1', 0, Math.min(lf, 8192)));
}

/**
 * Cuts a Common Crawl file into units of about `targetBytes`, at gzip member starts that begin a record
 * (checked by inflating the member: a stray `1f 8b 08` inside compressed data does not pass) or, for
 * uncompressed files, at record starts found by walking the headers (Content-Length), so text inside a
 * record that looks like a header cannot cause a cut. A file gzipped as a single member stays one unit.
 */
export async function planCommonCrawl(file: string, options: PlanOptions = {}): Promise<WorkUnit[]> {
  const target = options.targetBytes ?? 64 << 20;
  if (!(target > 0)) throw new ConfigError('targetBytes', target, 'a positive number of bytes');
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new InputNotFoundError(file);
  }
  if (size <= target) return [{ file, start: 0, end: size, index: 0 }];
  const handle = await open(file, 'r');
  try {
    const head = await readAt(handle, 0, 2);
    const gzip = head[0] === 0x1f && head[1] === 0x8b;
    const cuts: number[] = [0];
    if (gzip) {
      for (let want = target; want < size; ) {
        const cut = await nextMemberStart(handle, want, size);
        if (cut === null) break;
        if (cut > cuts[cuts.length - 1]!) cuts.push(cut);
        want = Math.max(cut + 1, want + target);
      }
    } else {
      for (const cut of await walkRecords(handle, size, target)) cuts.push(cut);
    }
    return cuts.map((start, index) => ({ file, start, end: cuts[index + 1] ?? size, index }));
  } finally {
    await handle.close();
  }
}

async function nextMemberStart(handle: FileHandle, from: number, size: number): Promise<number | null> {
  const window = 1 << 20;
  for (let pos = from; pos < size; pos += window) {
    // Read a little extra so a member that starts near the end of the window can be verified.
    const buf = await readAt(handle, pos, window + (4 << 20));
    for (let i = buf.indexOf(0x1f); i >= 0 && i < window; i = buf.indexOf(0x1f, i + 1)) {
      if (buf[i + 1] !== 0x8b || buf[i + 2] !== 8) continue;
      const result = inflateMember(buf, i, 64 << 20);
      if (result.ok ? startsRecord(result.data) : result.short && startsRecordPrefix(buf, i)) return pos + i;
    }
  }
  return null;
}

/** For a member too long for the verification window: inflate a prefix and look for a record header. */
function startsRecordPrefix(buf: Buffer, at: number): boolean {
  const header = gzipHeaderLength(buf, at);
  if (typeof header !== 'number') return false;
  try {
    // Z_SYNC_FLUSH as the finishing flush accepts input that stops mid-stream.
    const out = inflateRawSync(buf.subarray(at + header, at + header + (64 << 10)), { finishFlush: constants.Z_SYNC_FLUSH });
    return startsRecord(out);
  } catch {
    return false;
  }
}

/** Record starts of an uncompressed WARC/ARC file, every ~`target` bytes, by walking Content-Length. */
async function walkRecords(handle: FileHandle, size: number, target: number): Promise<number[]> {
  const cuts: number[] = [];
  let pos = 0;
  let nextCut = target;
  while (pos < size) {
    let buf = await readAt(handle, pos, 64 << 10);
    // Skip separators.
    let skip = 0;
    while (skip < buf.length && (buf[skip] === 13 || buf[skip] === 10)) skip++;
    if (skip === buf.length) break;
    if (skip > 0) {
      pos += skip;
      buf = buf.subarray(skip);
    }
    if (pos >= nextCut) {
      cuts.push(pos);
      nextCut = pos + target;
    }
    let length: number;
    let bodyStart: number;
    if (buf.subarray(0, 5).toString('latin1') === 'WARC/') {
      let header = findHeaderEnd(buf, 0);
      if (!header) {
        buf = await readAt(handle, pos, 1 << 20);
        header = findHeaderEnd(buf, 0);
        if (!header) break;
      }
      const lengthText = parseHeaderLines(buf.toString('latin1', 0, header.end)).map.get('content-length');
      length = Number(lengthText);
      bodyStart = header.next;
    } else {
      const lf = buf.indexOf(10);
      const m = lf > 0 ? ARC_LINE.exec(buf.toString('latin1', 0, lf)) : null;
      if (!m) break;
      length = Number(m[5]);
      bodyStart = lf + 1;
    }
    // A damaged header ends the walk: the rest stays in the current unit, whose reader resynchronises.
    if (!Number.isSafeInteger(length) || length < 0) break;
    pos += bodyStart + length;
  }
  return cuts;
}

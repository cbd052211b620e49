import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { ConfigError, InputNotFoundError, MalformedInputError } from '@pretext/core';
import { bz2Blocks, findMarkers, isBz2 } from './bz2.js';

/**
 * A byte range of a dump. Pages whose `<page>` tag starts in a bz2 block (or, uncompressed, at a byte) inside
 * `[start, end)` belong to the unit; its reader decodes on past `end` to finish the last of them.
 */
export interface WorkUnit {
  readonly file: string;
  readonly start: number;
  readonly end: number;
  readonly index: number;
}

export interface PlanWikipediaOptions {
  /**
   * The multistream index (`…-multistream-index.txt[.bz2]`, lines `offset:page_id:title`): units are cut at
   * stream offsets from it without scanning the dump. Without it, `.bz2` dumps are cut at bz2 block starts
   * found by scanning (single-stream dumps split too), and plain XML at `<page>` starts.
   */
  index?: string;
  /** Approximate compressed bytes per unit. Default 32 MiB. */
  targetBytes?: number;
}

/** Distinct stream offsets listed in a multistream index, ascending. */
export async function readIndexOffsets(index: string): Promise<number[]> {
  const head = Buffer.alloc(4);
  const handle = await open(index, 'r').catch(() => {
    throw new InputNotFoundError(index);
  });
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const input = isBz2(head)
    ? Readable.from(
        (async function* () {
          for await (const e of bz2Blocks(index, 0, Infinity)) {
            if (e.kind === 'error') throw new MalformedInputError(index, e.position, e.reason);
            yield Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
          }
        })(),
      )
    : createReadStream(index);
  const offsets: number[] = [];
  let last = -1;
  let lineNo = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (!line) continue;
    const colon = line.indexOf(':');
    const offset = Number(line.slice(0, colon));
    if (colon <= 0 || !Number.isSafeInteger(offset)) throw new MalformedInputError(index, `line ${lineNo}`, 'expected offset:page_id:title');
    if (offset !== last) {
      offsets.push(offset);
      last = offset;
    }
  }
  return offsets.sort((a, b) => a - b).filter((o, k, all) => k === 0 || o !== all[k - 1]);
}

/** Cuts a dump into units of about `targetBytes` compressed bytes. */
export async function planWikipedia(file: string, options: PlanWikipediaOptions = {}): Promise<WorkUnit[]> {
  const target = options.targetBytes ?? 32 << 20;
  if (!(target > 0)) throw new ConfigError('targetBytes', target, 'a positive number of bytes');
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new InputNotFoundError(file);
  }
  const whole = [{ file, start: 0, end: size, index: 0 }];
  if (size <= target) return whole;
  const handle = await open(file, 'r');
  const cuts: number[] = [0];
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    if (options.index) {
      const offsets = await readIndexOffsets(options.index);
      for (const o of offsets) if (o > 0 && o < size && o - cuts[cuts.length - 1]! >= target) cuts.push(o);
    } else if (isBz2(head)) {
      // UTF-16 dumps cannot be cut at arbitrary blocks (a block may start mid code unit): one unit.
      if (await isUtf16Bz2(file)) return whole;
      for (let want = target; want < size; want += target) {
        const cut = await nextBlockStart(handle, want, size);
        if (cut === null) break;
        if (cut > cuts[cuts.length - 1]!) cuts.push(cut);
        want = Math.max(want, cut);
      }
    } else if (head[0] === 0x1f && head[1] === 0x8b) {
      return whole; // one gzip stream: not splittable
    } else {
      if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return whole;
      for (let want = target; want < size; want += target) {
        const cut = await nextPageStart(handle, want, size);
        if (cut === null) break;
        if (cut > cuts[cuts.length - 1]!) cuts.push(cut);
        want = Math.max(want, cut);
      }
    }
  } finally {
    await handle.close();
  }
  return cuts.map((start, index) => ({ file, start, end: cuts[index + 1] ?? size, index }));
}

async function isUtf16Bz2(file: string): Promise<boolean> {
  const blocks = bz2Blocks(file, 0, 1);
  try {
    const first = await blocks.next();
    if (first.done || first.value.kind !== 'block') return false;
    const d = first.value.data;
    return (d[0] === 0xff && d[1] === 0xfe) || (d[0] === 0xfe && d[1] === 0xff);
  } finally {
    await blocks.return(undefined);
  }
}

/** Byte holding the first bit of the first bz2 block that starts at or after byte `from`. */
async function nextBlockStart(handle: import('node:fs/promises').FileHandle, from: number, size: number): Promise<number | null> {
  const window = 2 << 20;
  for (let pos = from; pos < size; pos += window) {
    const buf = Buffer.alloc(Math.min(window + 8, size - pos));
    const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
    const found = findMarkers(buf.subarray(0, bytesRead), 0, Math.min(window, bytesRead) * 8).find((m) => m.kind === 'block');
    if (found) return pos + (found.bit >>> 3);
  }
  return null;
}

/** Offset of the first `<page>` at or after `from` in an uncompressed dump. */
async function nextPageStart(handle: import('node:fs/promises').FileHandle, from: number, size: number): Promise<number | null> {
  const window = 1 << 20;
  for (let pos = from; pos < size; pos += window) {
    const buf = Buffer.alloc(Math.min(window + 6, size - pos));
    const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
    const at = buf.subarray(0, bytesRead).indexOf('<page>');
    if (at >= 0 && at < window) return pos + at;
  }
  return null;
}

import { AddedMatcher } from './added.js';
import { CHAR_TO_BYTE, BYTE_TO_CHAR, utf8Encode } from './bytelevel.js';
import { WordCache } from './cache.js';
import { MergeTable, type MergeArrays } from './merges.js';
import { GPT2_PATTERN, Spans, regexPreTokenizer, splitGpt2, type PreTokenizer } from './pretokenize.js';
import type { AddedToken, EncodingWithOffsets } from './types.js';
import { IntBuffer } from './util.js';

/** Strings packed into one string plus end offsets, and an id per string: cheap to send to another thread. */
export interface PackedStrings {
  text: string;
  ends: Int32Array;
  ids: Int32Array;
}

export function packStrings(entries: Iterable<readonly [string, number]>): PackedStrings {
  const parts: string[] = [];
  const ends: number[] = [];
  const ids: number[] = [];
  let n = 0;
  for (const [s, id] of entries) {
    parts.push(s);
    n += s.length;
    ends.push(n);
    ids.push(id);
  }
  return { text: parts.join(''), ends: Int32Array.from(ends), ids: Int32Array.from(ids) };
}

export function unpackStrings(p: PackedStrings): Map<string, number> {
  const map = new Map<string, number>();
  let start = 0;
  for (let i = 0; i < p.ends.length; i++) {
    const end = p.ends[i]!;
    map.set(p.text.slice(start, end), p.ids[i]!);
    start = end;
  }
  return map;
}

/**
 * Everything byte-level BPE encoding needs, compiled from a tokenizer: typed arrays and a few settings, posted
 * to worker threads as they are (a copy of a few MB; no JSON to parse). Not in a SharedArrayBuffer: encoding over
 * shared arrays was no faster in a whole run and slower in a micro-benchmark of workers (Node 20).
 */
export interface BpeTables {
  readonly kind: 'bpe';
  readonly vocabSize: number;
  /** Merge rules as the open-addressing table's arrays: (left, right) → (rank, merged id). */
  readonly merges: MergeArrays;
  /** Id of each byte's single-byte token (-1: none). */
  readonly byteIds: Int32Array;
  /** UTF-8 byte length of every token (for offsets). */
  readonly tokenLengths: Int32Array;
  readonly addedTokens: readonly AddedToken[];
  readonly pattern: string;
  readonly addPrefixSpace: boolean;
  /** The model vocabulary, only when whole pre-tokens are looked up before merging (`ignore_merges`). */
  readonly wholeWords: PackedStrings | null;
  readonly file: string;
}

// Heap priorities are rank * 2^26 + position.
const POS_SHIFT = 67108864;
const SHORT_WORD = 48; // below this many symbols a linear scan beats a heap
const CACHE_MAX_WORD = 128;

/** UTF-8 byte length of a token string as the ByteLevel decoder sees it (byte-alphabet chars are one byte each). */
export function tokenByteLength(token: string): number {
  let alphabet = true;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (!(c < 324 && CHAR_TO_BYTE[c]! >= 0)) {
      alphabet = false;
      break;
    }
  }
  return alphabet ? token.length : Buffer.byteLength(token);
}

type OffsetSink = { starts: IntBuffer; ends: IntBuffer; words: IntBuffer };

/**
 * The encoding half of a byte-level BPE tokenizer, built from `BpeTables`: `BpeTokenizer` encodes through one,
 * and each tokenization worker builds its own from the tables the main thread compiled once.
 */
export class BpeEncoder {
  private readonly mergeTable: MergeTable;
  private readonly byteIds: Int32Array;
  private readonly tokenLengths: Int32Array;
  private readonly matcher: AddedMatcher;
  private readonly preTokenize: PreTokenizer;
  private readonly addPrefixSpace: boolean;
  private readonly wholeWords: Map<string, number> | null;
  private readonly cache = new WordCache();
  private readonly spans = new Spans();
  private readonly out = new IntBuffer(4096);
  private bytes = new Uint8Array(1024);

  constructor(readonly tables: BpeTables) {
    this.mergeTable = MergeTable.fromArrays(tables.merges);
    this.byteIds = tables.byteIds;
    this.tokenLengths = tables.tokenLengths;
    this.matcher = new AddedMatcher(tables.addedTokens);
    this.preTokenize = tables.pattern === GPT2_PATTERN ? splitGpt2 : regexPreTokenizer(tables.pattern, tables.file);
    this.addPrefixSpace = tables.addPrefixSpace;
    this.wholeWords = tables.wholeWords ? unpackStrings(tables.wholeWords) : null;
  }

  encode(text: string): Int32Array {
    const out = this.out;
    out.length = 0;
    this.encodeInto(text, out);
    return out.toArray();
  }

  /** Appends the ids of `text` to `out` (no copy: the fast path for corpora). */
  encodeInto(text: string, out: IntBuffer): void {
    if (this.matcher.size === 0) {
      this.encodeSegment(text, 0, text.length, out, null);
      return;
    }
    const found = this.matcher.find(text, 0, text.length);
    let pos = 0;
    for (let k = 0; k < found.length; k += 3) {
      if (found[k + 1]! > pos) this.encodeSegment(text, pos, found[k + 1]!, out, null);
      out.push(found[k]!);
      pos = found[k + 2]!;
    }
    if (pos < text.length) this.encodeSegment(text, pos, text.length, out, null);
  }

  encodeWithOffsets(text: string): EncodingWithOffsets {
    const ids = new IntBuffer();
    const starts = new IntBuffer();
    const ends = new IntBuffer();
    const words = new IntBuffer();
    const offsets = { starts, ends, words };
    const found = this.matcher.size === 0 ? [] : this.matcher.find(text, 0, text.length);
    let pos = 0;
    for (let k = 0; k < found.length; k += 3) {
      if (found[k + 1]! > pos) this.encodeSegment(text, pos, found[k + 1]!, ids, offsets);
      ids.push(found[k]!);
      starts.push(found[k + 1]!);
      ends.push(found[k + 2]!);
      words.push(1);
      pos = found[k + 2]!;
    }
    if (pos < text.length) this.encodeSegment(text, pos, text.length, ids, offsets);
    return { ids: ids.toArray(), starts: starts.toArray(), ends: ends.toArray(), wordStarts: Uint8Array.from(words.toArray()) };
  }

  private encodeSegment(text: string, start: number, end: number, out: IntBuffer, offsets: OffsetSink | null): void {
    let shift = 0;
    let minStart = 0;
    if (this.addPrefixSpace && text.charCodeAt(start) !== 0x20) {
      // Hugging Face prepends the space to each piece between added tokens; its offset is the piece's start
      text = ' ' + text.slice(start, end);
      shift = start - 1;
      minStart = start;
      start = 0;
      end = text.length;
    }
    const spans = this.spans;
    spans.clear();
    this.preTokenize(text, start, end, spans);
    const cache = this.cache;
    const data = spans.data;
    for (let k = 0; k < spans.length; k += 2) {
      const s = data[k]!;
      const e = data[k + 1]!;
      const before = out.length;
      if (e - s <= CACHE_MAX_WORD) {
        if (cache.find(text, s, e)) {
          const n = cache.hitLength();
          if (out.length + n > out.data.length) out.reserve(n);
          out.length = cache.copyTo(out.data, out.length);
        } else {
          const ids = this.bpeWord(text, s, e);
          cache.insert(text, s, e, ids);
          out.pushAll(ids);
        }
      } else {
        out.pushAll(this.bpeWord(text, s, e));
      }
      if (offsets) this.offsetsFor(text, s, e, out, before, offsets, shift, minStart);
    }
  }

  /** Character offsets of the tokens out[before..] of the pre-token text[s, e) (Hugging Face: the chars their bytes touch). */
  private offsetsFor(text: string, s: number, e: number, out: IntBuffer, before: number, o: OffsetSink, shift: number, minStart: number): void {
    const lengths = this.tokenLengths;
    let ascii = true;
    for (let i = s; i < e; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      // one byte per character: offsets are running sums of token lengths
      let p = s;
      for (let t = before; t < out.length; t++) {
        o.starts.push(Math.max(minStart, p + shift));
        p += lengths[out.data[t]!]!;
        o.ends.push(Math.max(minStart, p + shift));
        o.words.push(t === before ? 1 : 0);
      }
      return;
    }
    let c = s; // the char holding byte `pos`
    let cb = 0; // byte offset (in the pre-token) where char c starts
    let pos = 0; // byte offset of the current token
    for (let t = before; t < out.length; t++) {
      const len = lengths[out.data[t]!]!;
      for (;;) {
        const w = charUtf8Len(text, c, e);
        if (cb + w.bytes > pos || c + w.units >= e) break;
        cb += w.bytes;
        c += w.units;
      }
      const last = pos + Math.max(len, 1) - 1;
      let c2 = c;
      let cb2 = cb;
      let endChar: number;
      for (;;) {
        const w = charUtf8Len(text, c2, e);
        if (cb2 + w.bytes > last || c2 + w.units >= e) {
          endChar = c2 + w.units;
          break;
        }
        cb2 += w.bytes;
        c2 += w.units;
      }
      o.starts.push(Math.max(minStart, c + shift));
      o.ends.push(Math.max(minStart, endChar + shift));
      o.words.push(t === before ? 1 : 0);
      pos += len;
    }
  }

  /** BPE of one pre-token: UTF-8 bytes, then merges by rank (lowest first, leftmost on ties), as Hugging Face. */
  bpeWord(text: string, s: number, e: number): Int32Array {
    if (this.bytes.length < (e - s) * 3) this.bytes = new Uint8Array((e - s) * 3 * 2);
    const n = utf8Encode(text, s, e, this.bytes);
    if (this.wholeWords) {
      const whole = this.wholeWords.get(byteString(this.bytes, n));
      if (whole !== undefined) return Int32Array.of(whole);
    }
    let syms = new Int32Array(n);
    let len = 0;
    for (let i = 0; i < n; i++) {
      const id = this.byteIds[this.bytes[i]!]!;
      if (id >= 0) syms[len++] = id;
    }
    if (len < n) syms = syms.slice(0, len);
    if (len <= SHORT_WORD) return this.mergeShort(syms, len);
    return this.mergeLong(syms, len);
  }

  private mergeShort(syms: Int32Array, len: number): Int32Array {
    const table = this.mergeTable;
    const ranks = table.rank;
    for (;;) {
      let best = 0x7fffffff;
      let at = -1;
      let slot = -1;
      for (let i = 0; i + 1 < len; i++) {
        const k = table.find(syms[i]!, syms[i + 1]!);
        if (k >= 0 && ranks[k]! < best) {
          best = ranks[k]!;
          at = i;
          slot = k;
        }
      }
      if (at < 0) break;
      syms[at] = table.merged[slot]!;
      syms.copyWithin(at + 1, at + 2, len);
      len--;
    }
    return len === syms.length ? syms : syms.slice(0, len);
  }

  /** Hugging Face's heap-driven merge (O(n log n)) for long pre-tokens: a 10 MB run of symbols stays fast. */
  private mergeLong(syms: Int32Array, len: number): Int32Array {
    const table = this.mergeTable;
    const ranks = table.rank;
    const next = new Int32Array(len);
    const prev = new Int32Array(len);
    const alive = new Uint8Array(len).fill(1);
    for (let i = 0; i < len; i++) {
      next[i] = i + 1 < len ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap(len);
    for (let i = 0; i + 1 < len; i++) {
      const k = table.find(syms[i]!, syms[i + 1]!);
      if (k >= 0) heap.push(ranks[k]! * POS_SHIFT + i);
    }
    while (heap.size > 0) {
      const top = heap.pop();
      const pos = top % POS_SHIFT;
      const rank = Math.floor(top / POS_SHIFT);
      if (!alive[pos]) continue;
      const nx = next[pos]!;
      if (nx < 0) continue;
      const k = table.find(syms[pos]!, syms[nx]!);
      if (k < 0 || ranks[k] !== rank) continue; // stale entry
      syms[pos] = table.merged[k]!;
      alive[nx] = 0;
      const nn = next[nx]!;
      next[pos] = nn;
      if (nn >= 0) prev[nn] = pos;
      const pv = prev[pos]!;
      if (pv >= 0) {
        const w = table.find(syms[pv]!, syms[pos]!);
        if (w >= 0) heap.push(ranks[w]! * POS_SHIFT + pv);
      }
      if (nn >= 0) {
        const w = table.find(syms[pos]!, syms[nn]!);
        if (w >= 0) heap.push(ranks[w]! * POS_SHIFT + pos);
      }
    }
    const out = new IntBuffer(len);
    for (let i = 0; i >= 0 && i < len; i = next[i]!) out.push(syms[i]!);
    return out.toArray();
  }
}

function byteString(bytes: Uint8Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

const charWidth = { bytes: 0, units: 0 };
/** UTF-8 byte length and UTF-16 length of the character at text[i] (reused object: no allocation). */
function charUtf8Len(text: string, i: number, e: number): { bytes: number; units: number } {
  const c = text.charCodeAt(i);
  if (c < 0x80) {
    charWidth.bytes = 1;
    charWidth.units = 1;
  } else if (c < 0x800) {
    charWidth.bytes = 2;
    charWidth.units = 1;
  } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < e && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
    charWidth.bytes = 4;
    charWidth.units = 2;
  } else {
    charWidth.bytes = 3;
    charWidth.units = 1;
  }
  return charWidth;
}

/** A binary min-heap of doubles. */
export class MinHeap {
  private data: Float64Array;
  size = 0;
  constructor(capacity = 64) {
    this.data = new Float64Array(Math.max(16, capacity));
  }
  push(x: number): void {
    if (this.size === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    const d = this.data;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p]! <= x) break;
      d[i] = d[p]!;
      i = p;
    }
    d[i] = x;
  }
  pop(): number {
    const d = this.data;
    const top = d[0]!;
    const x = d[--this.size]!;
    let i = 0;
    const n = this.size;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && d[c + 1]! < d[c]!) c++;
      if (d[c]! >= x) break;
      d[i] = d[c]!;
      i = c;
    }
    d[i] = x;
    return top;
  }
}

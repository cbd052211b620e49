import { writeFile } from 'node:fs/promises';
import { TokenizerError, type SpecialTokens } from '@pretext/core';
import { AddedMatcher } from './added.js';
import { WordCache } from './cache.js';
import { MergeTable } from './merges.js';
import { BYTE_TO_CHAR, tokenToBytes, utf8Encode } from './bytelevel.js';
import { CL100K_PATTERN, GPT2_PATTERN, Spans, regexPreTokenizer, splitGpt2, type PreTokenizer } from './pretokenize.js';
import { applyTemplate, PLAIN_TEMPLATE, type Template } from './template.js';
import type { AddedToken, DecodeOptions, EncodingWithOffsets, PairEncoding, Tokenizer } from './types.js';
import { IntBuffer, addedTokenJSON, detectSpecialTokens, utf8Decoder } from './util.js';

/** Everything a byte-level BPE tokenizer is made of. */
export interface BpeSpec {
  /** Model vocabulary, token → id (byte-level strings: `Ġthe`). */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules by rank (first = applied first). */
  merges: readonly (readonly [string, string])[];
  addedTokens?: readonly AddedToken[];
  /** The pre-tokenization regex in Hugging Face/tiktoken syntax (`GPT2_PATTERN`, `CL100K_PATTERN` or another). */
  pattern?: string;
  /** Prepend a space to text that does not start with one (RoBERTa). Default false (GPT-2). */
  addPrefixSpace?: boolean;
  /** Look a whole pre-token up in the vocabulary before merging (Llama 3). Default false. */
  ignoreMerges?: boolean;
  unkToken?: string | null;
  /** Where the spec came from, for error messages. */
  file?: string;
  /** Post-processing for `encodePair` (default: none, B gets type id 1). */
  template?: Template;
  /** Hugging Face pipeline parts kept verbatim when saving a loaded tokenizer (post_processor, decoder, …). */
  extra?: Readonly<Record<string, unknown>>;
}

// Pair keys pack two ids below 2^21 into one double; values pack rank and merged id the same way.
const SHIFT = 2097152; // 2^21
const POS_SHIFT = 67108864; // 2^26: heap priorities are rank * 2^26 + position
const SHORT_WORD = 48; // below this many symbols a linear scan beats a heap
const CACHE_MAX_WORD = 128;

/** Byte-level BPE (GPT-2, RoBERTa, cl100k style), identical to Hugging Face `tokenizers` on the same tokenizer.json. */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly pattern: string;
  private readonly tokToId: Map<string, number>;
  private readonly idToTok: (string | undefined)[];
  private readonly byteIds = new Int32Array(256);
  private readonly mergeTable: MergeTable;
  private readonly merges: readonly (readonly [string, string])[];
  private readonly added: readonly AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly matcher: AddedMatcher;
  private readonly preTokenize: PreTokenizer;
  private readonly cache = new WordCache();
  private readonly spans = new Spans();
  private readonly out = new IntBuffer(4096);
  private bytes = new Uint8Array(1024);
  private tokenBytes: (Uint8Array | undefined)[] = [];
  private readonly unkId: number | undefined;
  private readonly spec: BpeSpec;

  constructor(spec: BpeSpec) {
    this.spec = spec;
    const file = spec.file ?? '<tokenizer>';
    this.tokToId = new Map(spec.vocab);
    let size = 0;
    for (const id of this.tokToId.values()) size = Math.max(size, id + 1);
    this.added = spec.addedTokens ?? [];
    for (const t of this.added) {
      size = Math.max(size, t.id + 1);
      this.addedById.set(t.id, t);
    }
    if (size >= SHIFT) throw new TokenizerError(file, `vocabulary has ${size} ids; at most ${SHIFT - 1} are supported`);
    this.vocabSize = size;
    this.idToTok = new Array<string | undefined>(size);
    for (const [t, id] of this.tokToId) this.idToTok[id] = t;
    for (const t of this.added) {
      this.idToTok[t.id] ??= t.content;
      if (!this.tokToId.has(t.content)) this.tokToId.set(t.content, t.id);
    }
    this.unkId = spec.unkToken ? spec.vocab.get(spec.unkToken) : undefined;
    for (let b = 0; b < 256; b++) this.byteIds[b] = spec.vocab.get(BYTE_TO_CHAR[b]!) ?? this.unkId ?? -1;
    this.merges = spec.merges;
    this.mergeTable = new MergeTable(spec.merges.length);
    spec.merges.forEach(([a, b], rank) => {
      const ia = spec.vocab.get(a);
      const ib = spec.vocab.get(b);
      const im = spec.vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new TokenizerError(file, `merge ${rank + 1} (${JSON.stringify(a)} ${JSON.stringify(b)}) needs ${JSON.stringify(missing)}, which is not in the vocabulary`);
      }
      // Hugging Face keeps the last rank of a repeated pair
      this.mergeTable.set(ia, ib, rank, im);
    });
    this.pattern = spec.pattern ?? GPT2_PATTERN;
    this.preTokenize = this.pattern === GPT2_PATTERN ? splitGpt2 : regexPreTokenizer(this.pattern, file);
    this.matcher = new AddedMatcher(this.added);
    this.special = detectSpecialTokens((t) => this.tokToId.get(t), spec.unkToken);
  }

  tokenToId(token: string): number | undefined {
    return this.tokToId.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  isSpecial(id: number): boolean {
    return this.addedById.get(id)?.special ?? false;
  }

  /** The added tokens (special tokens first as trained), as Hugging Face lists them. */
  get addedTokens(): readonly AddedToken[] {
    return this.added;
  }

  encode(text: string): Int32Array {
    const out = this.out;
    out.length = 0;
    this.encodeInto(text, out);
    return out.toArray();
  }

  encodeBatch(texts: readonly string[]): Int32Array[] {
    return texts.map((t) => this.encode(t));
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

  encodePair(a: string, b?: string): PairEncoding {
    return applyTemplate(this.spec.template ?? PLAIN_TEMPLATE, this.encode(a), b === undefined ? undefined : this.encode(b));
  }

  private encodeSegment(
    text: string,
    start: number,
    end: number,
    out: IntBuffer,
    offsets: { starts: IntBuffer; ends: IntBuffer; words: IntBuffer } | null,
  ): void {
    let shift = 0;
    let minStart = 0;
    if (this.spec.addPrefixSpace && text.charCodeAt(start) !== 0x20) {
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
  private offsetsFor(
    text: string,
    s: number,
    e: number,
    out: IntBuffer,
    before: number,
    o: { starts: IntBuffer; ends: IntBuffer; words: IntBuffer },
    shift: number,
    minStart: number,
  ): void {
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
        p += this.tokenLength(out.data[t]!);
        o.ends.push(Math.max(minStart, p + shift));
        o.words.push(t === before ? 1 : 0);
      }
      return;
    }
    let c = s; // the char holding byte `pos`
    let cb = 0; // byte offset (in the pre-token) where char c starts
    let pos = 0; // byte offset of the current token
    for (let t = before; t < out.length; t++) {
      const len = this.bytesOf(out.data[t]!).length;
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

  private tokenLengths: Int32Array | null = null;
  /** Byte length of a token (cached). */
  private tokenLength(id: number): number {
    const lens = (this.tokenLengths ??= new Int32Array(this.vocabSize).fill(-1));
    let n = lens[id]!;
    if (n < 0) {
      n = this.bytesOf(id).length;
      lens[id] = n;
    }
    return n;
  }

  private bytesOf(id: number): Uint8Array {
    let b = this.tokenBytes[id];
    if (b === undefined) {
      const tok = this.idToTok[id] ?? '';
      // as Hugging Face's ByteLevel decoder: byte-alphabet strings become bytes, anything else its UTF-8
      b = tokenToBytes(tok) ?? new TextEncoder().encode(tok);
      this.tokenBytes[id] = b;
    }
    return b;
  }

  /** BPE of one pre-token: UTF-8 bytes, then merges by rank (lowest first, leftmost on ties), as Hugging Face. */
  bpeWord(text: string, s: number, e: number): Int32Array {
    if (this.bytes.length < (e - s) * 3) this.bytes = new Uint8Array((e - s) * 3 * 2);
    const n = utf8Encode(text, s, e, this.bytes);
    if (this.spec.ignoreMerges) {
      const whole = this.tokToId.get(byteString(this.bytes, n));
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

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= this.vocabSize || this.idToTok[id] === undefined) continue;
      if (options.skipSpecialTokens && this.isSpecial(id)) continue;
      const b = this.bytesOf(id);
      parts.push(b);
      total += b.length;
    }
    const all = new Uint8Array(total);
    let p = 0;
    for (const b of parts) {
      all.set(b, p);
      p += b.length;
    }
    return utf8Decoder.decode(all);
  }

  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    const entries = [...this.spec.vocab].sort((x, y) => x[1] - y[1]);
    for (const [t, id] of entries) vocab[t] = id;
    const gpt2 = this.pattern === GPT2_PATTERN;
    const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: this.spec.addPrefixSpace ?? false, trim_offsets: true, use_regex: useRegex });
    const extra = this.spec.extra ?? {};
    return {
      version: '1.0',
      truncation: extra.truncation ?? null,
      padding: extra.padding ?? null,
      added_tokens: this.added.map(addedTokenJSON),
      normalizer: extra.normalizer ?? null,
      pre_tokenizer: gpt2
        ? byteLevel(true)
        : {
            type: 'Sequence',
            pretokenizers: [{ type: 'Split', pattern: { Regex: this.pattern }, behavior: 'Isolated', invert: false }, byteLevel(false)],
          },
      post_processor: extra.post_processor ?? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: extra.decoder ?? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: this.spec.unkToken ?? null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: this.spec.ignoreMerges ?? false,
        vocab,
        merges: this.merges.map(([a, b]) => [a, b]),
      },
    };
  }

  async save(file: string): Promise<void> {
    await writeFile(file, JSON.stringify(this.toJSON()));
  }

  /** The merge rules, by rank. */
  getMerges(): readonly (readonly [string, string])[] {
    return this.merges;
  }
}

export { GPT2_PATTERN, CL100K_PATTERN };

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

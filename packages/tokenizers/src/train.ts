import { ConfigError } from '@pretext/core';
import { BpeTokenizer } from './bpe.js';
import { BYTE_TO_CHAR, utf8Encode } from './bytelevel.js';
import { BertNormalizer, bertPreTokenize, type BertNormalizerOptions } from './normalize.js';
import { CL100K_PATTERN, GPT2_PATTERN, Spans, regexPreTokenizer, splitGpt2, type PreTokenizer } from './pretokenize.js';
import type { AddedToken } from './types.js';
import { specialAdded } from './util.js';
import { WordPieceTokenizer } from './wordpiece.js';

export interface TrainProgress {
  phase: 'count' | 'merge';
  done: number;
  total: number;
}

export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens and the 256 bytes included. */
  vocabSize: number;
  /** A pair must occur this often to be merged. Default 2. */
  minFrequency?: number;
  /** Special tokens, given the first ids in order. Default `['<|endoftext|>']`. */
  specialTokens?: string[];
  /** Pre-tokenization: GPT-2's regex (default) or cl100k's. */
  pattern?: 'gpt2' | 'cl100k';
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainWordPieceOptions {
  vocabSize: number;
  /** Default 2. */
  minFrequency?: number;
  /** Default `['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']` (ids 0–4). */
  specialTokens?: string[];
  /** Lower-case and strip accents (uncased BERT). Default true. */
  lowercase?: boolean;
  /** Keep at most this many distinct characters (the most frequent). Default 1000, as BERT's trainer. */
  limitAlphabet?: number;
  onProgress?: (p: TrainProgress) => void;
}

const SHIFT = 2097152; // 2^21: pair key = a * SHIFT + b
const PROGRESS_EVERY = 256;

/**
 * Byte-level BPE training (GPT-2 style): count pre-tokens, then repeatedly merge the most frequent adjacent pair.
 * Pair counts are updated incrementally (only the words holding the merged pair are touched) and the best pair
 * comes from a lazy max-heap, as in Hugging Face's trainer; ties go to the smaller pair of ids.
 */
export async function trainBpe(texts: AsyncIterable<string> | Iterable<string>, options: TrainBpeOptions): Promise<BpeTokenizer> {
  const specials = options.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = options.minFrequency ?? 2;
  checkTrainOptions(options.vocabSize, minFrequency, specials);
  if (options.vocabSize < specials.length + 256) {
    throw new ConfigError('vocabSize', options.vocabSize, `at least ${specials.length + 256} (the special tokens and the 256 bytes)`);
  }
  const pattern = options.pattern === 'cl100k' ? CL100K_PATTERN : GPT2_PATTERN;
  const pre: PreTokenizer = pattern === GPT2_PATTERN ? splitGpt2 : regexPreTokenizer(pattern);
  const counts = await countWords(texts, pre, options.onProgress);

  // ids: special tokens, then the byte alphabet sorted by character (Hugging Face's layout)
  const tokens: string[] = [...specials];
  const alphabet = [...BYTE_TO_CHAR].sort((x, y) => x.charCodeAt(0) - y.charCodeAt(0));
  const byteId = new Int32Array(256);
  for (const ch of alphabet) {
    byteId[BYTE_TO_CHAR.indexOf(ch)] = tokens.length;
    tokens.push(ch);
  }
  let buf = new Uint8Array(256);
  const words = new WordTable(counts.size);
  for (const [word, count] of counts) {
    if (buf.length < word.length * 3) buf = new Uint8Array(word.length * 6);
    const n = utf8Encode(word, 0, word.length, buf);
    words.add(count, n, (i) => byteId[buf[i]!]!);
  }
  counts.clear();
  const merges = mergeLoop(words, tokens, options.vocabSize, minFrequency, (a, b) => a + b, options.onProgress);
  const vocab = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (!vocab.has(t)) vocab.set(t, id);
  });
  const addedTokens: AddedToken[] = specials.map((s, id) => specialAdded(id, s));
  return new BpeTokenizer({ vocab, merges, addedTokens, pattern });
}

/**
 * WordPiece training (BERT style, as Hugging Face's WordPieceTrainer): BERT-normalize and split words, then BPE
 * merges over characters where non-initial pieces carry `##`; the resulting vocabulary is the WordPiece vocabulary.
 */
export async function trainWordPiece(texts: AsyncIterable<string> | Iterable<string>, options: TrainWordPieceOptions): Promise<WordPieceTokenizer> {
  const specials = options.specialTokens ?? ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const minFrequency = options.minFrequency ?? 2;
  checkTrainOptions(options.vocabSize, minFrequency, specials);
  if (!specials.includes('[UNK]')) throw new ConfigError('specialTokens', specials, 'a list that includes "[UNK]" (WordPiece needs an unknown token)');
  const lowercase = options.lowercase ?? true;
  const normOptions: BertNormalizerOptions = { cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase };
  const normalizer = new BertNormalizer(normOptions);
  const counts = new Map<string, number>();
  const spans = new Spans();
  let done = 0;
  for await (const text of texts) {
    if (typeof text !== 'string') throw new ConfigError('texts', typeof text, 'an iterable of strings');
    const n = normalizer.normalize(text, 0, text.length, false).text;
    spans.clear();
    bertPreTokenize(n, 0, n.length, spans);
    for (let k = 0; k < spans.length; k += 2) {
      const w = n.slice(spans.data[k]!, spans.data[k + 1]!);
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    if (++done % PROGRESS_EVERY === 0) options.onProgress?.({ phase: 'count', done, total: done });
  }
  options.onProgress?.({ phase: 'count', done, total: done });

  // alphabet: the most frequent characters (up to limitAlphabet), sorted by code point
  const charCounts = new Map<string, number>();
  for (const [w, c] of counts) for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + c);
  const limit = options.limitAlphabet ?? 1000;
  let chars = [...charCounts.entries()];
  if (chars.length > limit) chars = chars.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, limit);
  const alphabet = chars.map(([c]) => c).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const tokens: string[] = [...specials];
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => ids.set(t, i));
  for (const ch of alphabet) {
    if (!ids.has(ch)) {
      ids.set(ch, tokens.length);
      tokens.push(ch);
    }
  }
  const words = new WordTable(counts.size);
  const symbols: number[] = [];
  for (const [w, c] of counts) {
    symbols.length = 0;
    let first = true;
    for (const ch of w) {
      if (!ids.has(ch)) {
        first = false;
        continue; // outside the kept alphabet: dropped, as Hugging Face does
      }
      const s = first ? ch : '##' + ch;
      first = false;
      let id = ids.get(s);
      if (id === undefined) {
        id = tokens.length;
        ids.set(s, id);
        tokens.push(s);
      }
      symbols.push(id);
    }
    if (symbols.length > 0) words.add(c, symbols.length, (i) => symbols[i]!);
  }
  mergeLoop(words, tokens, options.vocabSize, minFrequency, (a, b) => a + (b.startsWith('##') ? b.slice(2) : b), options.onProgress);
  const vocab = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (!vocab.has(t)) vocab.set(t, id);
  });
  const addedTokens = specials.map((s, id) => specialAdded(id, s));
  return new WordPieceTokenizer({ vocab, addedTokens, normalizer: normOptions });
}

function checkTrainOptions(vocabSize: number, minFrequency: number, specials: string[]): void {
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize >= SHIFT) throw new ConfigError('vocabSize', vocabSize, `an integer from 1 to ${SHIFT - 1}`);
  if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new ConfigError('minFrequency', minFrequency, 'an integer ≥ 1');
  if (new Set(specials).size !== specials.length || specials.some((s) => s.length === 0)) {
    throw new ConfigError('specialTokens', specials, 'distinct non-empty strings');
  }
}

async function countWords(
  texts: AsyncIterable<string> | Iterable<string>,
  pre: PreTokenizer,
  onProgress?: (p: TrainProgress) => void,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const spans = new Spans();
  let done = 0;
  for await (const text of texts) {
    if (typeof text !== 'string') throw new ConfigError('texts', typeof text, 'an iterable of strings');
    spans.clear();
    pre(text, 0, text.length, spans);
    const d = spans.data;
    for (let k = 0; k < spans.length; k += 2) {
      const w = text.slice(d[k]!, d[k + 1]!);
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    if (++done % PROGRESS_EVERY === 0) onProgress?.({ phase: 'count', done, total: done });
  }
  onProgress?.({ phase: 'count', done, total: done });
  return counts;
}

/** Unique words as symbol sequences in one Int32Array, with counts; merged in place. */
class WordTable {
  sym = new Int32Array(1 << 16);
  start: number[] = [];
  len: number[] = [];
  count: number[] = [];
  private used = 0;
  constructor(readonly expected: number) {}
  add(count: number, n: number, symbolAt: (i: number) => number): void {
    if (this.used + n > this.sym.length) {
      let cap = this.sym.length * 2;
      while (cap < this.used + n) cap *= 2;
      const next = new Int32Array(cap);
      next.set(this.sym.subarray(0, this.used));
      this.sym = next;
    }
    this.start.push(this.used);
    this.len.push(n);
    this.count.push(count);
    for (let i = 0; i < n; i++) this.sym[this.used + i] = symbolAt(i);
    this.used += n;
  }
  get size(): number {
    return this.start.length;
  }
}

/** A max-heap of (count, pair key): highest count first, then the smallest key. */
class PairHeap {
  private counts = new Float64Array(1024);
  private keys = new Float64Array(1024);
  size = 0;
  private before(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }
  push(count: number, key: number): void {
    if (this.size === this.counts.length) {
      const c = new Float64Array(this.size * 2);
      c.set(this.counts);
      this.counts = c;
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(count, key, this.counts[p]!, this.keys[p]!)) break;
      this.counts[i] = this.counts[p]!;
      this.keys[i] = this.keys[p]!;
      i = p;
    }
    this.counts[i] = count;
    this.keys[i] = key;
  }
  topCount(): number {
    return this.counts[0]!;
  }
  topKey(): number {
    return this.keys[0]!;
  }
  pop(): void {
    const n = --this.size;
    const c = this.counts[n]!;
    const k = this.keys[n]!;
    let i = 0;
    for (;;) {
      let ch = 2 * i + 1;
      if (ch >= n) break;
      if (ch + 1 < n && this.before(this.counts[ch + 1]!, this.keys[ch + 1]!, this.counts[ch]!, this.keys[ch]!)) ch++;
      if (!this.before(this.counts[ch]!, this.keys[ch]!, c, k)) break;
      this.counts[i] = this.counts[ch]!;
      this.keys[i] = this.keys[ch]!;
      i = ch;
    }
    this.counts[i] = c;
    this.keys[i] = k;
  }
}

/** The merge loop shared by BPE and WordPiece training; appends new tokens to `tokens` and returns the merges. */
function mergeLoop(
  words: WordTable,
  tokens: string[],
  vocabSize: number,
  minFrequency: number,
  name: (a: string, b: string) => string,
  onProgress?: (p: TrainProgress) => void,
): [string, string][] {
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const { sym, start, len, count } = words;
  for (let w = 0; w < words.size; w++) {
    const s = start[w]!;
    const c = count[w]!;
    for (let i = s; i + 1 < s + len[w]!; i++) {
      const key = sym[i]! * SHIFT + sym[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      const list = pairWords.get(key);
      if (list === undefined) pairWords.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  const merges: [string, string][] = [];
  const total = Math.max(0, vocabSize - tokens.length);
  const stamp = new Int32Array(words.size).fill(-1);
  const touched = new Set<number>();
  const add = (key: number, delta: number, w: number) => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + delta);
    if (delta > 0) {
      const list = pairWords.get(key);
      if (list === undefined) pairWords.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
      touched.add(key);
    }
  };
  while (tokens.length < vocabSize && heap.size > 0) {
    const cnt = heap.topCount();
    const key = heap.topKey();
    heap.pop();
    const current = pairCount.get(key) ?? 0;
    if (current !== cnt) {
      if (current > 0) heap.push(current, key); // stale: counts only fall, so re-queue with the true count
      continue;
    }
    if (cnt < minFrequency) break;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const merged = name(tokens[a]!, tokens[b]!);
    let id = ids.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      ids.set(merged, id);
    }
    merges.push([tokens[a]!, tokens[b]!]);
    const list = pairWords.get(key) ?? [];
    pairWords.delete(key);
    pairCount.delete(key);
    const iter = merges.length;
    touched.clear();
    for (const w of list) {
      if (stamp[w] === iter) continue;
      stamp[w] = iter;
      const s = start[w]!;
      const n = len[w]!;
      const c = count[w]!;
      let q = s;
      for (let r = s; r < s + n; r++) {
        if (r + 1 < s + n && sym[r] === a && sym[r + 1] === b) {
          if (q > s) {
            const p = sym[q - 1]!;
            add(p * SHIFT + a, -c, w);
            add(p * SHIFT + id, c, w);
          }
          if (r + 2 < s + n) {
            const nx = sym[r + 2]!;
            add(b * SHIFT + nx, -c, w);
            add(id * SHIFT + nx, c, w);
          }
          sym[q++] = id;
          r++;
        } else sym[q++] = sym[r]!;
      }
      len[w] = q - s;
    }
    pairCount.delete(key);
    for (const k of touched) {
      const v = pairCount.get(k) ?? 0;
      if (v > 0) heap.push(v, k);
    }
    if (merges.length % PROGRESS_EVERY === 0) onProgress?.({ phase: 'merge', done: merges.length, total });
  }
  onProgress?.({ phase: 'merge', done: merges.length, total });
  return merges;
}

import { AddedMatcher } from './added.js';
import { unpackStrings, type PackedStrings } from './bpe-encoder.js';
import { WordCache } from './cache.js';
import { BertNormalizer, bertPreTokenize, type BertNormalizerOptions } from './normalize.js';
import { Spans } from './pretokenize.js';
import type { AddedToken, EncodingWithOffsets } from './types.js';
import { IntBuffer } from './util.js';

/**
 * Everything WordPiece encoding needs, compiled from a tokenizer: the vocabulary packed into one string (a
 * worker rebuilds its lookup in milliseconds, no JSON parsing), typed arrays and a few settings.
 */
export interface WordPieceTables {
  readonly kind: 'wordpiece';
  readonly vocabSize: number;
  /** The model vocabulary (token → id), packed. */
  readonly vocab: PackedStrings;
  /** UTF-16 length of every token (for offsets). */
  readonly tokenLengths: Int32Array;
  readonly unkId: number;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  readonly addedTokens: readonly AddedToken[];
  readonly normalizer: BertNormalizerOptions | null;
}

interface OffsetSink {
  starts: IntBuffer;
  ends: IntBuffer;
  words: IntBuffer;
}

/**
 * The encoding half of a WordPiece tokenizer: `WordPieceTokenizer` encodes through one, and each tokenization
 * worker builds its own from the tables the main thread compiled once.
 */
export class WordPieceEncoder {
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly tokenLengths: Int32Array;
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxChars: number;
  private readonly normalizer: BertNormalizer | null;
  private readonly rawMatcher: AddedMatcher;
  private readonly normMatcher: AddedMatcher;
  private readonly cache = new WordCache();
  private readonly spans = new Spans();
  private readonly out = new IntBuffer(4096);

  /** `vocab`: the vocabulary as a map when the caller has one (else it is unpacked from the tables). */
  constructor(readonly tables: Omit<WordPieceTables, 'vocab'> & { vocab?: PackedStrings }, vocab?: ReadonlyMap<string, number>) {
    this.vocab = vocab ?? unpackStrings(tables.vocab!);
    this.tokenLengths = tables.tokenLengths;
    this.unkId = tables.unkId;
    this.prefix = tables.prefix;
    this.maxChars = tables.maxInputCharsPerWord;
    this.normalizer = tables.normalizer === null ? null : new BertNormalizer(tables.normalizer);
    const raw = tables.addedTokens.filter((t) => !t.normalized);
    const norm = tables.addedTokens.filter((t) => t.normalized);
    this.rawMatcher = new AddedMatcher(raw);
    // normalized added tokens are matched by their normalized form on normalized text (Hugging Face)
    this.normMatcher = new AddedMatcher(
      norm,
      norm.map((t) => (this.normalizer ? this.normalizer.normalize(t.content, 0, t.content.length, false).text : t.content)),
    );
  }

  encode(text: string): Int32Array {
    const out = this.out;
    out.length = 0;
    this.run(text, out, null);
    return out.toArray();
  }

  encodeInto(text: string, out: IntBuffer): void {
    this.run(text, out, null);
  }

  encodeWithOffsets(text: string): EncodingWithOffsets {
    const ids = new IntBuffer();
    const sink: OffsetSink = { starts: new IntBuffer(), ends: new IntBuffer(), words: new IntBuffer() };
    this.run(text, ids, sink);
    return { ids: ids.toArray(), starts: sink.starts.toArray(), ends: sink.ends.toArray(), wordStarts: Uint8Array.from(sink.words.toArray()) };
  }

  private run(text: string, out: IntBuffer, sink: OffsetSink | null): void {
    const found = this.rawMatcher.size === 0 ? [] : this.rawMatcher.find(text, 0, text.length);
    let pos = 0;
    for (let k = 0; k < found.length; k += 3) {
      if (found[k + 1]! > pos) this.runPiece(text, pos, found[k + 1]!, out, sink);
      out.push(found[k]!);
      if (sink) {
        sink.starts.push(found[k + 1]!);
        sink.ends.push(found[k + 2]!);
        sink.words.push(1);
      }
      pos = found[k + 2]!;
    }
    if (pos < text.length) this.runPiece(text, pos, text.length, out, sink);
  }

  /** A piece of raw text between raw added tokens: normalize, match normalized added tokens, split words, WordPiece. */
  private runPiece(text: string, start: number, end: number, out: IntBuffer, sink: OffsetSink | null): void {
    const norm = this.normalizer
      ? this.normalizer.normalize(text, start, end, sink !== null)
      : { text: text.slice(start, end), start: null, end: null };
    const s = norm.text;
    const map = (i: number, isEnd: boolean): number => {
      if (isEnd) return norm.end ? norm.end[i - 1]! : start + i;
      return norm.start ? norm.start[i]! : start + i;
    };
    const found = this.normMatcher.size === 0 ? [] : this.normMatcher.find(s, 0, s.length);
    let pos = 0;
    for (let k = 0; k < found.length; k += 3) {
      if (found[k + 1]! > pos) this.runWords(s, pos, found[k + 1]!, out, sink, map);
      out.push(found[k]!);
      if (sink) {
        sink.starts.push(map(found[k + 1]!, false));
        sink.ends.push(map(found[k + 2]!, true));
        sink.words.push(1);
      }
      pos = found[k + 2]!;
    }
    if (pos < s.length) this.runWords(s, pos, s.length, out, sink, map);
  }

  private runWords(s: string, start: number, end: number, out: IntBuffer, sink: OffsetSink | null, map: (i: number, isEnd: boolean) => number): void {
    const spans = this.spans;
    spans.clear();
    bertPreTokenize(s, start, end, spans);
    const data = spans.data;
    const n = spans.length;
    for (let k = 0; k < n; k += 2) {
      const a = data[k]!;
      const b = data[k + 1]!;
      const cache = this.cache;
      let ids: Int32Array | null = null;
      if (b - a <= 128 && cache.find(s, a, b)) {
        const len = cache.hitLength();
        if (out.length + len > out.data.length) out.reserve(len);
        const at = out.length;
        out.length = cache.copyTo(out.data, at);
        if (sink) ids = out.data.subarray(at, out.length);
      } else {
        ids = this.wordPiece(s.slice(a, b));
        if (b - a <= 128) cache.insert(s, a, b, ids);
        out.pushAll(ids);
      }
      if (sink && ids) {
        let p = a;
        for (let t = 0; t < ids.length; t++) {
          const id = ids[t]!;
          const len = id === this.unkId && ids.length === 1 ? b - a : this.tokenLengths[id]! - (t > 0 ? this.prefix.length : 0);
          sink.starts.push(map(p, false));
          sink.ends.push(map(p + len, true));
          sink.words.push(t === 0 ? 1 : 0);
          p += len;
        }
      }
    }
  }

  /** Greedy longest-match-first; a word with any unmatched part becomes one `[UNK]`. */
  wordPiece(word: string): Int32Array {
    let chars = 0;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      if (!(c >= 0xdc00 && c <= 0xdfff)) chars++;
    }
    if (chars > this.maxChars) return Int32Array.of(this.unkId);
    const whole = this.vocab.get(word);
    if (whole !== undefined) return Int32Array.of(whole);
    const ids: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found = -1;
      while (start < end) {
        const sub = start > 0 ? this.prefix + word.slice(start, end) : word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
        const c = word.charCodeAt(end);
        if (c >= 0xdc00 && c <= 0xdfff && end > start) end--; // keep surrogate pairs whole
      }
      if (found < 0) return Int32Array.of(this.unkId);
      ids.push(found);
      start = end;
    }
    return Int32Array.from(ids);
  }
}

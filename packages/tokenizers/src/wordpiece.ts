import { writeFile } from 'node:fs/promises';
import { TokenizerError, type SpecialTokens } from '@pretext/core';
import { AddedMatcher } from './added.js';
import { WordCache } from './cache.js';
import { BertNormalizer, bertPreTokenize, type BertNormalizerOptions } from './normalize.js';
import { Spans } from './pretokenize.js';
import { applyTemplate, bertTemplate, PLAIN_TEMPLATE, templateFromJSON, templateToJSON, type Template } from './template.js';
import type { AddedToken, DecodeOptions, EncodingWithOffsets, PairEncoding, Tokenizer } from './types.js';
import { IntBuffer, addedTokenJSON, detectSpecialTokens } from './util.js';

export interface WordPieceSpec {
  vocab: ReadonlyMap<string, number>;
  /** Default `[UNK]`. */
  unkToken?: string;
  /** Prefix of word-continuing pieces. Default `##`. */
  prefix?: string;
  /** Longer words become `[UNK]`. Default 100. */
  maxInputCharsPerWord?: number;
  addedTokens?: readonly AddedToken[];
  /** BERT normalizer options; null for none. Default: uncased BERT (clean text, CJK split, lower-case, strip accents). */
  normalizer?: BertNormalizerOptions | null;
  /** Post-processing template; default `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` when those tokens exist. */
  template?: Template;
  /** Decoder cleanup of spaces before punctuation (Hugging Face `cleanup`). Default true. */
  cleanup?: boolean;
  file?: string;
  /** Hugging Face JSON parts kept verbatim when saving (padding, truncation). */
  extra?: Readonly<Record<string, unknown>>;
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

export const UNCASED: BertNormalizerOptions = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };

interface OffsetSink {
  starts: IntBuffer;
  ends: IntBuffer;
  words: IntBuffer;
}

/** BERT WordPiece: basic tokenizer then greedy longest-match-first, identical to Hugging Face `tokenizers`. */
export class WordPieceTokenizer implements Tokenizer {
  readonly kind = 'wordpiece' as const;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly prefix: string;
  private readonly spec: WordPieceSpec;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly tokToId: Map<string, number>;
  private readonly idToTok: (string | undefined)[];
  private readonly unkId: number;
  private readonly maxChars: number;
  private readonly normalizer: BertNormalizer | null;
  private readonly added: readonly AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly rawMatcher: AddedMatcher;
  private readonly normMatcher: AddedMatcher;
  private readonly template: Template;
  private readonly cache = new WordCache();
  private readonly spans = new Spans();
  private readonly out = new IntBuffer(4096);

  constructor(spec: WordPieceSpec) {
    this.spec = spec;
    const file = spec.file ?? '<tokenizer>';
    this.vocab = spec.vocab;
    this.prefix = spec.prefix ?? '##';
    this.maxChars = spec.maxInputCharsPerWord ?? 100;
    this.tokToId = new Map(spec.vocab);
    this.added = spec.addedTokens ?? [];
    let size = 0;
    for (const id of spec.vocab.values()) size = Math.max(size, id + 1);
    for (const t of this.added) {
      size = Math.max(size, t.id + 1);
      this.addedById.set(t.id, t);
    }
    this.vocabSize = size;
    this.idToTok = new Array<string | undefined>(size);
    for (const [t, id] of spec.vocab) this.idToTok[id] = t;
    for (const t of this.added) {
      this.idToTok[t.id] ??= t.content;
      if (!this.tokToId.has(t.content)) this.tokToId.set(t.content, t.id);
    }
    const unkToken = spec.unkToken ?? '[UNK]';
    const unk = this.tokToId.get(unkToken);
    if (unk === undefined) throw new TokenizerError(file, `the unknown token ${JSON.stringify(unkToken)} is not in the vocabulary; WordPiece needs it`);
    this.unkId = unk;
    this.normalizer = spec.normalizer === null ? null : new BertNormalizer(spec.normalizer ?? UNCASED);
    const raw = this.added.filter((t) => !t.normalized);
    const norm = this.added.filter((t) => t.normalized);
    this.rawMatcher = new AddedMatcher(raw);
    // normalized added tokens are matched by their normalized form on normalized text (Hugging Face)
    this.normMatcher = new AddedMatcher(
      norm,
      norm.map((t) => (this.normalizer ? this.normalizer.normalize(t.content, 0, t.content.length, false).text : t.content)),
    );
    this.special = detectSpecialTokens((t) => this.tokToId.get(t), unkToken);
    const { cls, sep } = this.special;
    this.template = spec.template ?? (cls !== undefined && sep !== undefined ? bertTemplate(cls, sep) : PLAIN_TEMPLATE);
  }

  /** Parses the normalizer, pre-tokenizer, post-processor and decoder of a WordPiece tokenizer.json. */
  static pipelineFromJSON(json: Json, file: string): Pick<WordPieceSpec, 'normalizer' | 'cleanup' | 'extra'> & { templateJSON: unknown } {
    let normalizer: BertNormalizerOptions | null = null;
    const n = json.normalizer;
    if (isObject(n)) {
      if (n.type !== 'BertNormalizer') throw new TokenizerError(file, `WordPiece normalizer ${JSON.stringify(n.type)} is not supported; only BertNormalizer is`);
      const lowercase = n.lowercase !== false;
      normalizer = {
        cleanText: n.clean_text !== false,
        handleChineseChars: n.handle_chinese_chars !== false,
        stripAccents: typeof n.strip_accents === 'boolean' ? n.strip_accents : lowercase,
        lowercase,
      };
    } else if (n !== null && n !== undefined) throw new TokenizerError(file, 'normalizer must be an object or null');
    const pre = json.pre_tokenizer;
    if (!(isObject(pre) && pre.type === 'BertPreTokenizer')) {
      throw new TokenizerError(file, `WordPiece pre-tokenizer ${JSON.stringify(isObject(pre) ? pre.type : pre)} is not supported; only BertPreTokenizer is`);
    }
    const dec = json.decoder;
    const cleanup = isObject(dec) && dec.type === 'WordPiece' ? dec.cleanup !== false : true;
    return { normalizer, cleanup, templateJSON: json.post_processor ?? null, extra: { padding: json.padding ?? null, truncation: json.truncation ?? null } };
  }

  /** A BERT tokenizer from `vocab.txt` (one token per line, id = line number), uncased unless `lowercase: false`. */
  static fromVocabText(text: string, options: { file?: string; lowercase?: boolean } = {}): WordPieceTokenizer {
    const file = options.file ?? 'vocab.txt';
    const vocab = new Map<string, number>();
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((raw, i) => {
      const token = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (!vocab.has(token)) vocab.set(token, i);
    });
    if (vocab.size === 0) throw new TokenizerError(file, 'is empty; a vocab.txt has one token per line');
    if (!vocab.has('[UNK]')) throw new TokenizerError(file, 'has no [UNK] line; it is not a BERT vocab.txt');
    const lowercase = options.lowercase ?? true;
    const addedTokens: AddedToken[] = [];
    for (const name of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) {
      const id = vocab.get(name);
      if (id !== undefined) addedTokens.push({ id, content: name, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true });
    }
    return new WordPieceTokenizer({
      vocab,
      addedTokens,
      normalizer: { cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase },
      file,
    });
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

  get addedTokens(): readonly AddedToken[] {
    return this.added;
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

  encodeBatch(texts: readonly string[]): Int32Array[] {
    return texts.map((t) => this.encode(t));
  }

  encodeWithOffsets(text: string): EncodingWithOffsets {
    const ids = new IntBuffer();
    const sink: OffsetSink = { starts: new IntBuffer(), ends: new IntBuffer(), words: new IntBuffer() };
    this.run(text, ids, sink);
    return { ids: ids.toArray(), starts: sink.starts.toArray(), ends: sink.ends.toArray(), wordStarts: Uint8Array.from(sink.words.toArray()) };
  }

  encodePair(a: string, b?: string): PairEncoding {
    return applyTemplate(this.template, this.encode(a), b === undefined ? undefined : this.encode(b));
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
          const len = id === this.unkId && ids.length === 1 ? b - a : this.idToTok[id]!.length - (t > 0 ? this.prefix.length : 0);
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

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let out = '';
    let first = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      let tok = this.idToTok[id];
      if (tok === undefined) continue;
      if (options.skipSpecialTokens && this.isSpecial(id)) continue;
      if (!first) tok = tok.startsWith(this.prefix) ? tok.slice(this.prefix.length) : ' ' + tok;
      first = false;
      out += this.spec.cleanup === false ? tok : cleanup(tok);
    }
    return out;
  }

  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (const [t, id] of [...this.vocab].sort((x, y) => x[1] - y[1])) vocab[t] = id;
    const n = this.normalizer?.options;
    return {
      version: '1.0',
      truncation: this.spec.extra?.truncation ?? null,
      padding: this.spec.extra?.padding ?? null,
      added_tokens: this.added.map(addedTokenJSON),
      normalizer: n
        ? { type: 'BertNormalizer', clean_text: n.cleanText, handle_chinese_chars: n.handleChineseChars, strip_accents: n.stripAccents, lowercase: n.lowercase }
        : null,
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: this.template === PLAIN_TEMPLATE ? null : templateToJSON(this.template, (id) => this.idToTok[id]),
      decoder: { type: 'WordPiece', prefix: this.prefix, cleanup: this.spec.cleanup ?? true },
      model: {
        type: 'WordPiece',
        unk_token: this.idToTok[this.unkId],
        continuing_subword_prefix: this.prefix,
        max_input_chars_per_word: this.maxChars,
        vocab,
      },
    };
  }

  async save(file: string): Promise<void> {
    await writeFile(file, JSON.stringify(this.toJSON()));
  }

  /** The vocabulary as `vocab.txt` (one token per line, by id). */
  toVocabText(): string {
    return this.idToTok.map((t) => t ?? '').join('\n') + '\n';
  }
}

/** Hugging Face's WordPiece decoder cleanup, applied to each token with its leading space. */
function cleanup(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x20) return s;
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export { templateFromJSON };

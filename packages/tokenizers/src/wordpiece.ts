import { writeFile } from 'node:fs/promises';
import { TokenizerError, type SpecialTokens } from '@pretext/core';
import { packStrings } from './bpe-encoder.js';
import { BertNormalizer, type BertNormalizerOptions } from './normalize.js';
import { applyTemplate, bertTemplate, PLAIN_TEMPLATE, templateFromJSON, templateToJSON, type Template } from './template.js';
import type { AddedToken, DecodeOptions, EncodingWithOffsets, PairEncoding, Tokenizer } from './types.js';
import { addedTokenJSON, detectSpecialTokens, type IntBuffer } from './util.js';
import { WordPieceEncoder, type WordPieceTables } from './wordpiece-encoder.js';

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
  private readonly template: Template;
  private readonly encoder: WordPieceEncoder;

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
    const tokenLengths = new Int32Array(size);
    for (let id = 0; id < size; id++) tokenLengths[id] = this.idToTok[id]?.length ?? 0;
    this.encoder = new WordPieceEncoder(
      {
        kind: 'wordpiece',
        vocabSize: size,
        tokenLengths,
        unkId: unk,
        prefix: this.prefix,
        maxInputCharsPerWord: this.maxChars,
        addedTokens: this.added,
        normalizer: this.normalizer?.options ?? null,
      },
      spec.vocab,
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
    return this.encoder.encode(text);
  }

  encodeInto(text: string, out: IntBuffer): void {
    this.encoder.encodeInto(text, out);
  }

  encodeBatch(texts: readonly string[]): Int32Array[] {
    return texts.map((t) => this.encoder.encode(t));
  }

  encodeWithOffsets(text: string): EncodingWithOffsets {
    return this.encoder.encodeWithOffsets(text);
  }

  /** Greedy longest-match-first of one word (no cache); a word with any unmatched part becomes one `[UNK]`. */
  wordPiece(word: string): Int32Array {
    return this.encoder.wordPiece(word);
  }

  /**
   * The encoding tables (the vocabulary packed into one string, token lengths in an Int32Array): a worker thread
   * builds a `WordPieceEncoder` from them in milliseconds, with no JSON to parse.
   */
  compile(): WordPieceTables {
    const { vocab: _, ...t } = this.encoder.tables;
    this.compiled ??= { ...t, vocab: packStrings(this.vocab) };
    return this.compiled;
  }
  private compiled: WordPieceTables | undefined;

  encodePair(a: string, b?: string): PairEncoding {
    return applyTemplate(this.template, this.encode(a), b === undefined ? undefined : this.encode(b));
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

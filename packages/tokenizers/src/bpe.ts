import { writeFile } from 'node:fs/promises';
import { TokenizerError, type SpecialTokens } from '@pretext/core';
import { BpeEncoder, packStrings, tokenByteLength, type BpeTables } from './bpe-encoder.js';
import { MergeTable } from './merges.js';
import { BYTE_TO_CHAR, tokenToBytes } from './bytelevel.js';
import { CL100K_PATTERN, GPT2_PATTERN } from './pretokenize.js';
import { applyTemplate, PLAIN_TEMPLATE, type Template } from './template.js';
import type { AddedToken, DecodeOptions, EncodingWithOffsets, PairEncoding, Tokenizer } from './types.js';
import { addedTokenJSON, detectSpecialTokens, utf8Decoder, type IntBuffer } from './util.js';

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

// Ids stay below 2^21 (heap priorities and training keys pack them into doubles).
const SHIFT = 2097152; // 2^21

/** Byte-level BPE (GPT-2, RoBERTa, cl100k style), identical to Hugging Face `tokenizers` on the same tokenizer.json. */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly pattern: string;
  private readonly tokToId: Map<string, number>;
  private readonly idToTok: (string | undefined)[];
  private readonly merges: readonly (readonly [string, string])[];
  private readonly added: readonly AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private tokenBytes: (Uint8Array | undefined)[] = [];
  private readonly spec: BpeSpec;
  private readonly encoder: BpeEncoder;

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
    const unkId = spec.unkToken ? spec.vocab.get(spec.unkToken) : undefined;
    const byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) byteIds[b] = spec.vocab.get(BYTE_TO_CHAR[b]!) ?? unkId ?? -1;
    this.merges = spec.merges;
    const mergeTable = new MergeTable(spec.merges.length);
    spec.merges.forEach(([a, b], rank) => {
      const ia = spec.vocab.get(a);
      const ib = spec.vocab.get(b);
      const im = spec.vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new TokenizerError(file, `merge ${rank + 1} (${JSON.stringify(a)} ${JSON.stringify(b)}) needs ${JSON.stringify(missing)}, which is not in the vocabulary`);
      }
      // Hugging Face keeps the last rank of a repeated pair
      mergeTable.set(ia, ib, rank, im);
    });
    this.pattern = spec.pattern ?? GPT2_PATTERN;
    const tokenLengths = new Int32Array(size);
    for (let id = 0; id < size; id++) tokenLengths[id] = tokenByteLength(this.idToTok[id] ?? '');
    this.encoder = new BpeEncoder({
      kind: 'bpe',
      vocabSize: size,
      merges: mergeTable.arrays(),
      byteIds,
      tokenLengths,
      addedTokens: this.added,
      pattern: this.pattern,
      addPrefixSpace: spec.addPrefixSpace ?? false,
      wholeWords: spec.ignoreMerges ? packStrings(spec.vocab) : null,
      file,
    });
    this.special = detectSpecialTokens((t) => this.tokToId.get(t), spec.unkToken);
  }

  /**
   * The encoding tables (typed arrays and a few settings): a worker thread builds a `BpeEncoder` from them in
   * milliseconds, with no JSON to parse. Posting them to a worker copies ~2.5 MB (GPT-2) in about a millisecond.
   */
  compile(): BpeTables {
    return this.encoder.tables;
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
    return this.encoder.encode(text);
  }

  encodeBatch(texts: readonly string[]): Int32Array[] {
    return texts.map((t) => this.encoder.encode(t));
  }

  /** Appends the ids of `text` to `out` (no copy: the fast path for corpora). */
  encodeInto(text: string, out: IntBuffer): void {
    this.encoder.encodeInto(text, out);
  }

  encodeWithOffsets(text: string): EncodingWithOffsets {
    return this.encoder.encodeWithOffsets(text);
  }

  encodePair(a: string, b?: string): PairEncoding {
    return applyTemplate(this.spec.template ?? PLAIN_TEMPLATE, this.encode(a), b === undefined ? undefined : this.encode(b));
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

  /** BPE of one pre-token text[s, e) (no cache). */
  bpeWord(text: string, s: number, e: number): Int32Array {
    return this.encoder.bpeWord(text, s, e);
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

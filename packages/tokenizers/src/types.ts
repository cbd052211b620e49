import type { SpecialTokens } from '@pretext/core';

/** Ids with per-token character offsets (UTF-16 code units into the input string, end exclusive). */
export interface EncodingWithOffsets {
  ids: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
  /** 1 where a token begins a word (a pre-token), 0 where it continues one. */
  wordStarts: Uint8Array;
}

/** A pair `[CLS] A [SEP] B [SEP]` (WordPiece) or `A B` (byte-level BPE), with segment ids. */
export interface PairEncoding {
  ids: Int32Array;
  /** 0 for the first segment (and its special tokens), 1 for the second. */
  typeIds: Int32Array;
  /** 1 on special tokens added by the template. */
  specialTokensMask: Uint8Array;
}

export interface DecodeOptions {
  /** Leave out special tokens (`[CLS]`, `<|endoftext|>`, …). Default false. */
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  readonly kind: 'bpe' | 'wordpiece';
  /** Number of ids (the largest id + 1), added tokens included. */
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  /** Token ids of `text`; no special tokens are added (special tokens written in the text are recognised). */
  encode(text: string): Int32Array;
  encodeWithOffsets(text: string): EncodingWithOffsets;
  /** One sequence with the model's template (`[CLS] A [SEP]`), or a pair (`[CLS] A [SEP] B [SEP]`), with type ids. */
  encodePair(a: string, b?: string): PairEncoding;
  /** Encodes many texts (the same as `encode` on each). */
  encodeBatch(texts: readonly string[]): Int32Array[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** True when `id` is a special token (never a word piece of text). */
  isSpecial(id: number): boolean;
  /** The Hugging Face `tokenizer.json` object. */
  toJSON(): unknown;
  /** Writes the Hugging Face `tokenizer.json`. */
  save(file: string): Promise<void>;
}

/** A token outside the model's vocabulary, matched in raw text before pre-tokenization (Hugging Face's `added_tokens`). */
export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

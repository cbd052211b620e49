import { createHash } from 'node:crypto';

/** A document as ingestion produces it: one row of a document shard. */
export interface Document {
  /** Stable, content-derived id (hex of a hash of source + text); equal text from the same source gets the same id. */
  readonly id: string;
  readonly text: string;
  /** The kind of corpus it came from: `books`, `commoncrawl`, `wikipedia`, or a user-given name. */
  readonly source: string;
  /** Source-specific metadata (title, author, url, …). Values become nullable Utf8/Int columns in shards. */
  readonly meta?: Readonly<Record<string, string | number | null | undefined>>;
}

/** A document after tokenization: one row of a token shard. Columns are typed arrays, never arrays of token objects. */
export interface TokenizedDocument {
  readonly id: string;
  /** Token ids, in order. */
  readonly ids: Int32Array;
  /** Token index at which each sentence starts, ascending; the first is 0. Absent: the document is one sentence. */
  readonly sentenceStarts?: Int32Array;
  /** 1 where a token begins a word (for whole-word masking), 0 where it continues one. */
  readonly wordStarts?: Uint8Array;
}

/** Ids of the special tokens a tokenizer defines; objectives read them from here, never by string. */
export interface SpecialTokens {
  readonly pad: number;
  /** End of document / end of text (GPT-2's `<|endoftext|>`). */
  readonly eos?: number;
  readonly bos?: number;
  readonly cls?: number;
  readonly sep?: number;
  readonly mask?: number;
  readonly unk?: number;
}

/** Labels that are not predicted carry this value (Hugging Face's convention). */
export const IGNORE_INDEX = -100;

/**
 * The stable, content-derived document id every ingest source uses: the first 32 hex digits of
 * sha256(source + NUL + text). Equal text from the same source gets the same id, so ids survive re-runs, worker
 * counts and machines. `utf8` may pass the text's UTF-8 bytes when the caller already has them.
 */
export function documentId(source: string, text: string, utf8?: Uint8Array): string {
  return createHash('sha256')
    .update(`${source}\0`)
    .update(utf8 ?? text)
    .digest('hex')
    .slice(0, 32);
}

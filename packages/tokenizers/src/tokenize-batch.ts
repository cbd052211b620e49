import type { Tokenizer } from './types.js';
import { sentenceOffsets, sentenceTokenStarts } from './sentences.js';

/** A batch of tokenized documents in flat columns (transferable between threads without copying). */
export interface TokenizedBatch {
  /** Token count of each document. */
  lengths: Int32Array;
  ids: Int32Array;
  wordStarts: Uint8Array;
  /** Number of sentence starts of each document (0 when the document is one sentence). */
  sentenceCounts: Int32Array;
  sentenceStarts: Int32Array;
}

/** Texts as UTF-8 bytes back to back: text `i` is `texts.subarray(offsets[i], offsets[i + 1])`; `offsets[0]` is 0. */
export interface TextsUnit {
  readonly offsets: Int32Array;
  readonly texts: Uint8Array;
}

// Decoded as Arrow's readers decode (a WHATWG decoder: a leading byte-order mark is dropped), so the ids are the
// same as for the documents `readDocuments` gives.
const utf8 = new TextDecoder('utf-8');

/** The unit's texts as strings (done where they are tokenized, so the reading thread never decodes them). */
export function decodeTexts(unit: TextsUnit): string[] {
  const out = new Array<string>(unit.offsets.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = utf8.decode(unit.texts.subarray(unit.offsets[i]!, unit.offsets[i + 1]!));
  return out;
}

/** Tokenizes texts with word starts and sentence starts; the same code runs in workers and in-process. */
export function tokenizeBatch(tokenizer: Pick<Tokenizer, 'encodeWithOffsets'>, texts: readonly string[]): TokenizedBatch {
  const parts = texts.map((text) => {
    const e = tokenizer.encodeWithOffsets(text);
    const sentences = sentenceTokenStarts(sentenceOffsets(text), e.ends);
    return { ids: e.ids, words: e.wordStarts, sentences: sentences.length > 1 ? sentences : new Int32Array(0) };
  });
  let total = 0;
  let totalSent = 0;
  for (const p of parts) {
    total += p.ids.length;
    totalSent += p.sentences.length;
  }
  const out: TokenizedBatch = {
    lengths: new Int32Array(parts.length),
    ids: new Int32Array(total),
    wordStarts: new Uint8Array(total),
    sentenceCounts: new Int32Array(parts.length),
    sentenceStarts: new Int32Array(totalSent),
  };
  let p = 0;
  let q = 0;
  parts.forEach((part, i) => {
    out.lengths[i] = part.ids.length;
    out.ids.set(part.ids, p);
    out.wordStarts.set(part.words, p);
    p += part.ids.length;
    out.sentenceCounts[i] = part.sentences.length;
    out.sentenceStarts.set(part.sentences, q);
    q += part.sentences.length;
  });
  return out;
}

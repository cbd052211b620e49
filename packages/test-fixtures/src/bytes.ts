import { readFileSync } from 'node:fs';
import { corpus } from './corpora.js';

/**
 * A byte-level corpus for trainer and causal-LM tests: UTF-8 bytes are the token ids (0-255), plus two specials.
 * Real text with a tokenizer that cannot be wrong, so a test failure is about the code under test.
 */
export const BYTE_SPECIAL = { eos: 256, pad: 257 } as const;
export const BYTE_VOCAB = 258;

/**
 * A shared-corpora book (path under `books/`) as documents, one a paragraph, at most `limit` of them.
 * Structurally a `TokenizedDocument` of `@pretext/core` (this package depends on nothing, so core's own
 * tests could use it too).
 */
export function bookDocuments(name = 'gutenberg/markovify/sherlock.txt', limit = Infinity): { id: string; ids: Int32Array }[] {
  const text = readFileSync(corpus('books', name), 'utf8');
  const paragraphs = text.split(/\r?\n\s*\r?\n/).map((p) => p.trim()).filter((p) => p.length > 0);
  return paragraphs.slice(0, limit).map((p, i) => ({ id: `p${i}`, ids: Int32Array.from(Buffer.from(p, 'utf8')) }));
}

/** The items as an async stream, the way the trainer receives documents. */
export async function* stream<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

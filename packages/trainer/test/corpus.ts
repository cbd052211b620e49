import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenizedDocument } from '@pretext/core';

/** The shared corpora folder: `../shared/corpora` next to the repository root (the folder holding nx.json). */
export function corporaDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('test setup: no nx.json above the test file; run the tests inside the pretext repository');
    dir = up;
  }
  const corpora = path.resolve(dir, '../shared/corpora');
  if (!existsSync(corpora)) throw new Error(`test data missing: ${corpora} does not exist; the tests need the shared corpora next to the repository`);
  return corpora;
}

/** A real book as documents (paragraphs), tokenized trivially: UTF-8 bytes are the token ids (vocabulary 256 + specials). */
export function bookDocuments(name = 'gutenberg/markovify/sherlock.txt', limit = Infinity): TokenizedDocument[] {
  const text = readFileSync(path.join(corporaDir(), 'books', name), 'utf8');
  const paragraphs = text.split(/\r?\n\s*\r?\n/).map((p) => p.trim()).filter((p) => p.length > 0);
  return paragraphs.slice(0, limit).map((p, i) => ({ id: `p${i}`, ids: Int32Array.from(Buffer.from(p, 'utf8')) }));
}

export const BYTE_SPECIAL = { eos: 256, pad: 257 } as const;
export const BYTE_VOCAB = 258;

export async function* stream<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments, corpus, stream } from './index.js';

describe('bookDocuments', () => {
  const docs = bookDocuments();

  it('gives every paragraph of the book as its UTF-8 bytes, in order', () => {
    const text = readFileSync(corpus('books/gutenberg/markovify/sherlock.txt'), 'utf8');
    const decoded = docs.map((d) => Buffer.from(Uint8Array.from(d.ids)).toString('utf8'));
    // Paragraphs are the non-blank runs between blank lines, trimmed.
    expect(decoded.join('\n\n')).toBe(text.split(/\r?\n\s*\r?\n/).map((p) => p.trim()).filter(Boolean).join('\n\n'));
    expect(decoded.some((p) => p.includes('Sherlock Holmes'))).toBe(true);
    expect(docs.map((d) => d.id).slice(0, 3)).toEqual(['p0', 'p1', 'p2']);
  });

  it('uses byte ids only, below the specials', () => {
    for (const d of docs) {
      expect(d.ids.length).toBeGreaterThan(0);
      expect(Math.max(...d.ids)).toBeLessThan(BYTE_SPECIAL.eos);
    }
    expect(BYTE_SPECIAL.pad).toBeLessThan(BYTE_VOCAB);
  });

  it('stops at the limit and reads other books', () => {
    expect(bookDocuments(undefined, 7)).toEqual(docs.slice(0, 7));
    const other = bookDocuments('gutenberg/ebookmaker/69030-0.txt', 3);
    expect(other).toHaveLength(3);
    expect(other[0]!.ids).not.toEqual(docs[0]!.ids);
  });

  it('fails naming the file for a book that is not there', () => {
    expect(() => bookDocuments('gutenberg/none.txt')).toThrow(/books\/gutenberg\/none\.txt: missing from the shared test corpora/);
  });
});

describe('stream', () => {
  it('yields the items in order', async () => {
    const out: number[] = [];
    for await (const x of stream([3, 1, 2])) out.push(x);
    expect(out).toEqual([3, 1, 2]);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedInputError, type Document, type PretextError } from '@pretext/core';
import { corpus } from '@pretext/test-fixtures';
import { readBooks, readEpub } from './index.js';

const BOOKS = corpus('books');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const words = (t: string) => t.split(/\s+/).filter(Boolean).length;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'pretext-epub-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function expectInOrder(text: string, needles: string[]): void {
  const at = needles.map((n) => text.indexOf(n));
  for (const [i, p] of at.entries()) expect(p, needles[i]).toBeGreaterThanOrEqual(0);
  expect(at).toEqual([...at].sort((a, b) => a - b));
}

describe('EPUB', () => {
  it('EPUB 2 from Project Gutenberg (#1661): metadata, spine order, boilerplate removed, same text as the .txt', async () => {
    const [epub] = (await collect(readBooks([path.join(BOOKS, 'epub/mu-epub/pg1661-sherlock-holmes.epub')]))) as [Document];
    expect(epub.meta).toEqual({ title: 'The Adventures of Sherlock Holmes', author: 'Arthur Conan Doyle', language: 'en', file: 'pg1661-sherlock-holmes.epub' });
    expect(epub.text).not.toMatch(/Gutenberg|gutenberg|START OF|END OF THE|License|LICENSE/);
    expectInOrder(epub.text, ['A SCANDAL IN BOHEMIA', 'THE RED-HEADED LEAGUE', 'A CASE OF IDENTITY', 'THE BOSCOMBE VALLEY MYSTERY', 'THE FIVE ORANGE PIPS', 'THE MAN WITH THE TWISTED LIP', 'THE ADVENTURE OF THE BLUE CARBUNCLE', 'THE ADVENTURE OF THE SPECKLED BAND', "THE ADVENTURE OF THE ENGINEER’S THUMB", 'THE ADVENTURE OF THE NOBLE BACHELOR', 'THE ADVENTURE OF THE BERYL CORONET', 'THE ADVENTURE OF THE COPPER BEECHES']);
    expect(epub.text.startsWith('To Sherlock Holmes')).toBe(false); // front matter (title, contents) comes first
    expect(epub.text.endsWith('she has met with considerable success.')).toBe(true);
    expect(epub.text).not.toMatch(/<[a-z]+[ >]|&[a-z]+;/); // no markup or entities left
    const [txt] = (await collect(readBooks([path.join(BOOKS, 'gutenberg/markovify/sherlock.txt')]))) as [Document];
    // Two editions of one book: word counts within 1% of each other.
    expect(Math.abs(words(epub.text) / words(txt.text) - 1)).toBeLessThan(0.01);
  });

  it('EPUB 3 (Alice): non-linear cover and navigation left out, chapters in spine order', async () => {
    const bytes = await readFile(path.join(BOOKS, 'epub/epub.js/alice.epub'));
    const book = readEpub(bytes, 'alice.epub');
    expect(book).toMatchObject({ title: "Alice's Adventures in Wonderland", author: 'Lewis Carroll', language: 'en' });
    expect(book.chapters).toEqual(['OPS/titlepage.xhtml', ...Array.from({ length: 10 }, (_, i) => `OPS/chapter_${String(i + 1).padStart(3, '0')}.xhtml`)]);
    expectInOrder(book.text, ['Down The Rabbit-Hole', 'The Pool Of Tears', "Alice's Evidence"]);
    expect(book.text).toContain('Alice was beginning to get very tired of sitting by her sister on the bank');
    expect(book.text.trimEnd().endsWith('what a wonderful dream it had been.')).toBe(true);
  });

  it('a damaged EPUB is a MalformedInputError, skipped inside a folder', async () => {
    const bytes = await readFile(path.join(BOOKS, 'epub/epub.js/alice.epub'));
    const cut = path.join(tmp, 'cut.epub');
    await writeFile(cut, bytes.subarray(0, 100_000));
    await expect(collect(readBooks([cut]))).rejects.toBeInstanceOf(MalformedInputError);
    await writeFile(path.join(tmp, 'good.epub'), bytes);
    const errors: PretextError[] = [];
    const docs = await collect(readBooks([tmp], { onError: (e) => errors.push(e) }));
    expect(docs.map((d) => d.meta!.file)).toEqual(['good.epub']);
    expect(errors.map((e) => e.code)).toEqual(['MalformedInput']);
    expect(errors[0]!.message).toMatch(/cut\.epub: is not a readable EPUB/);
  });
});

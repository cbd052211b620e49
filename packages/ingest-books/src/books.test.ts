import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmptyInputError, InputNotFoundError, InvalidTextError, type Document, type PretextError } from '@pretext/core';
import { readDocuments, writeDocuments } from '@pretext/shards';
import { corpus } from '@pretext/test-fixtures';
import { BOOK_META_FIELDS, parseGutenberg, readBooks } from './index.js';

const BOOKS = corpus('books');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function one(file: string): Promise<Document> {
  const docs = await collect(readBooks([path.join(BOOKS, file)]));
  expect(docs.length).toBe(1);
  return docs[0]!;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'pretext-books-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function expectClean(text: string): void {
  expect(text).not.toMatch(/Project Gutenberg|PROJECT GUTENBERG/);
  expect(text).not.toMatch(/\*\*\* ?(START|END)/);
  expect(text).not.toMatch(/Produced by|FULL LICENSE|gutenberg\.org/);
  expect(text).not.toContain('\r');
  expect(text).not.toContain('\uFEFF');
  expect(text).not.toMatch(/[ \t]+\n/);
  expect(text).not.toMatch(/\n\n\n/);
  expect(text).toBe(text.trim() === text ? text : text.replace(/\s+$/, ''));
}

describe('Project Gutenberg text', () => {
  it('new-style header (#69030): markers, licence and header gone, metadata read', async () => {
    const doc = await one('gutenberg/ebookmaker/69030-0.txt');
    expect(doc.meta).toEqual({ title: 'The girl in the crowd', author: 'Albert Payson Terhune', language: 'en', file: '69030-0.txt' });
    expectClean(doc.text);
    expect(doc.text.trimStart().startsWith('The Girl in the Crowd')).toBe(true);
    expect(doc.text.endsWith('[Transcriber’s Note: This story appeared in the October 1917 issue\nof Blue Book magazine.]')).toBe(true);
    expect(doc.text).toContain('Stretch an invisible cord knee-high across the sidewalk');
    expect(doc.source).toBe('books');
    expect(doc.id).toBe(createHash('sha256').update(`books\0${doc.text}`).digest('hex').slice(0, 32));
  });

  it('old-style header (#1661 Sherlock Holmes): "End of the Project Gutenberg EBook" line and footer removed', async () => {
    const doc = await one('gutenberg/markovify/sherlock.txt');
    expect(doc.meta).toMatchObject({ title: 'The Adventures of Sherlock Holmes', author: 'Arthur Conan Doyle', language: 'en' });
    expectClean(doc.text);
    expect(doc.text.startsWith('THE ADVENTURES OF SHERLOCK HOLMES\n\nby\n\nSIR ARTHUR CONAN DOYLE')).toBe(true);
    expect(doc.text.endsWith('where I believe that she has met with considerable success.')).toBe(true);
    const raw = (await readFile(path.join(BOOKS, 'gutenberg/markovify/sherlock.txt'), 'utf8')).replace(/\r\n/g, '\n');
    expect(raw).toContain('*** START: FULL LICENSE ***');
    expect(raw.length - doc.text.length).toBeGreaterThan(18_000); // header, credits and the ~18 kB licence
  });

  it('a file with its blank lines removed (#8868 Botchan): only the credit line goes, the title stays', async () => {
    const doc = await one('gutenberg/sentencepiece/botchan.txt');
    expect(doc.meta).toMatchObject({ title: 'Botchan (Master Darling)', author: 'Kin-nosuke Natsume', language: 'en' });
    expectClean(doc.text);
    expect(doc.text.startsWith('BOTCHAN (MASTER DARLING)\nBy The Late Mr. Kin-nosuke Natsume')).toBe(true);
    expect(doc.text.endsWith('[R: Rad]')).toBe(true);
  });

  it('recognises the old and foreign marker variants', () => {
    const body = Array.from({ length: 150 }, (_, i) => `Line ${i} of the story.`).join('\n');
    const cases: Array<[string, string]> = [
      ['*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*', 'End of Project Gutenberg Etext of Moby Dick'],
      ['***START OF THE PROJECT GUTENBERG EBOOK MOBY DICK***', '***END OF THE PROJECT GUTENBERG EBOOK MOBY DICK***'],
      ['*** START OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK X ***', '*** END OF THE COPYRIGHTED PROJECT GUTENBERG EBOOK X ***'],
      ['*** START OF THIS PROJECT GUTENBERG EBOOK FAUST ***', 'Ende dieses Project Gutenberg Etextes "Faust"'],
      ['*** START OF THIS PROJECT GUTENBERG EBOOK CANDIDE ***', 'Fin de Project Gutenberg Etext de Candide'],
      ['*** START OF THIS PROJECT GUTENBERG EBOOK X ***', 'END OF PROJECT GUTENBERG\'S X'],
    ];
    for (const [start, end] of cases) {
      const text = `Title: Moby Dick\nAuthor: Herman Melville\nLanguage: German\n\n${start}\n\nProduced by a volunteer\nand a Distributed Proofreaders team\n\n${body}\n\n${end}\n\nLICENCE TEXT`;
      const book = parseGutenberg(text);
      expect(book.gutenberg, start).toBe(true);
      expect(book.text.trim(), start).toBe(body);
      expect(book).toMatchObject({ title: 'Moby Dick', author: 'Herman Melville', language: 'de' });
    }
    const multi = parseGutenberg('Title: The Foo\n       or, The Bar\n\nAuthor: A. B.\n\n*** START OF THE PROJECT GUTENBERG EBOOK FOO ***\nText.\n*** END OF THE PROJECT GUTENBERG EBOOK FOO ***');
    expect(multi).toMatchObject({ title: 'The Foo or, The Bar', author: 'A. B.', text: 'Text.' });
    expect(parseGutenberg('Just a text file.\nNo markers.')).toEqual({ gutenberg: false, text: 'Just a text file.\nNo markers.' });
  });
});

describe('Aozora Bunko text', () => {
  it('reads title and author, drops the markup guide, ruby, annotations and colophon', async () => {
    const doc = await one('aozora/sentencepiece/wagahaiwa_nekodearu.txt');
    expect(doc.meta).toEqual({ title: '吾輩は猫である', author: '夏目漱石', language: 'ja', file: 'wagahaiwa_nekodearu.txt' });
    expect(doc.text.startsWith('一\n　吾輩は猫である。名前はまだ無い。')).toBe(true);
    expect(doc.text.endsWith('南無阿弥陀仏南無阿弥陀仏。ありがたいありがたい。')).toBe(true);
    expect(doc.text).not.toMatch(/[《》｜]|［＃|底本|青空文庫|【テキスト中/);
    expect(doc.text).not.toContain('\r');
  });
});

describe('inputs and errors', () => {
  it('expands folders and globs in natural order with paths relative to the input', async () => {
    const viaGlob = await collect(readBooks([`${BOOKS}/gutenberg/**/*.txt`]));
    expect(viaGlob.map((d) => d.meta!.file)).toEqual(['ebookmaker/69030-0.txt', 'markovify/sherlock.txt', 'sentencepiece/botchan.txt']);
    const viaFolder = await collect(readBooks([path.join(BOOKS, 'gutenberg')]));
    expect(viaFolder.map((d) => d.id)).toEqual(viaGlob.map((d) => d.id));
    // the same file twice is read once
    expect((await collect(readBooks([path.join(BOOKS, 'gutenberg'), path.join(BOOKS, 'gutenberg/markovify/sherlock.txt')]))).length).toBe(3);
  });

  it('missing path, empty folder, glob without match, empty file', async () => {
    await expect(collect(readBooks([path.join(tmp, 'nope')]))).rejects.toBeInstanceOf(InputNotFoundError);
    const empty = path.join(tmp, 'empty');
    await mkdir(empty);
    await expect(collect(readBooks([empty]))).rejects.toThrow(EmptyInputError);
    await expect(collect(readBooks([empty]))).rejects.toThrow(/holds no \.txt or \.epub files/);
    await expect(collect(readBooks([`${empty}/*.txt`]))).rejects.toThrow(/glob matches no files/);
    await writeFile(path.join(empty, 'zero.txt'), '');
    await expect(collect(readBooks([path.join(empty, 'zero.txt')]))).rejects.toThrow(/zero.txt: the file is empty/);
  });

  it('not UTF-8 or binary: InvalidTextError with the byte offset; skipped and reported inside a folder', async () => {
    const dir = path.join(tmp, 'mixed');
    await mkdir(dir);
    const good = await readFile(path.join(BOOKS, 'gutenberg/ebookmaker/69030-0.txt'));
    const bad = Buffer.concat([good.subarray(0, 5000), Buffer.from([0xff]), good.subarray(5000)]);
    await writeFile(path.join(dir, 'a-good.txt'), good);
    await writeFile(path.join(dir, 'b-bad.txt'), bad);
    await writeFile(path.join(dir, 'c-binary.txt'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x41]));

    const error = await collect(readBooks([path.join(dir, 'b-bad.txt')])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTextError);
    expect((error as InvalidTextError).offset).toBe(5000);
    expect((error as Error).message).toBe(`${path.join(dir, 'b-bad.txt')}: not valid UTF-8 at byte 5000; convert it to UTF-8 text or leave it out`);
    const bin = await collect(readBooks([path.join(dir, 'c-binary.txt')])).catch((e: unknown) => e);
    expect(bin).toMatchObject({ offset: 4, reason: 'binary data (a NUL byte)' });

    const errors: PretextError[] = [];
    const docs = await collect(readBooks([dir], { onError: (e) => errors.push(e) }));
    expect(docs.map((d) => d.meta!.file)).toEqual(['a-good.txt']);
    expect(errors.map((e) => [e.code, (e as InvalidTextError).file])).toEqual([
      ['InvalidText', path.join(dir, 'b-bad.txt')],
      ['InvalidText', path.join(dir, 'c-binary.txt')],
    ]);
    await expect(collect(readBooks([dir], { strict: true }))).rejects.toBeInstanceOf(InvalidTextError);
    expect(((await collect(readBooks([path.join(dir, 'b-bad.txt')], { strict: false, onError: () => {} })).catch((e: unknown) => e)) as Error).message).toMatch(/no readable book: all 1 files were skipped/);
  });

  it('decodes a Gutenberg file that declares ISO-8859-1', async () => {
    const text = 'Title: Les Misérables\r\nAuthor: Victor Hugo\r\nLanguage: French\r\nCharacter set encoding: ISO-8859-1\r\n\r\n*** START OF THIS PROJECT GUTENBERG EBOOK LES MISÉRABLES ***\r\nÉté à la mer.\r\n*** END OF THIS PROJECT GUTENBERG EBOOK LES MISÉRABLES ***\r\n';
    const file = path.join(tmp, 'hugo.txt');
    await writeFile(file, Buffer.from(text, 'latin1'));
    const [doc] = await collect(readBooks([file]));
    expect(doc).toMatchObject({ text: 'Été à la mer.', meta: { title: 'Les Misérables', author: 'Victor Hugo', language: 'fr' } });
  });

  it('reads UTF-16 text with a byte order mark as the same book', async () => {
    const utf8 = await readFile(path.join(BOOKS, 'gutenberg/ebookmaker/69030-0.txt'), 'utf8');
    const file = path.join(tmp, 'utf16.txt');
    await writeFile(file, Buffer.from(utf8, 'utf16le')); // the UTF-8 BOM becomes the UTF-16LE BOM ff fe
    expect((await readFile(file)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]));
    const [a] = await collect(readBooks([file]));
    const [b] = await collect(readBooks([path.join(BOOKS, 'gutenberg/ebookmaker/69030-0.txt')]));
    expect(a!.id).toBe(b!.id);
    expect(a!.meta!.title).toBe('The girl in the crowd');
  });

  it('round-trips through document shards with BOOK_META_FIELDS', async () => {
    const out = path.join(tmp, 'shards');
    const docs = await collect(readBooks([path.join(BOOKS, 'gutenberg'), path.join(BOOKS, 'aozora')]));
    const manifest = await writeDocuments(docs, { outDir: out, metaFields: BOOK_META_FIELDS, settings: { source: 'books' } });
    expect(manifest.rows).toBe(4);
    expect(manifest.schema.map((f) => f.name)).toEqual(['id', 'text', 'source', 'title', 'author', 'language', 'file']);
    expect(await collect(readDocuments(out, { verify: true }))).toEqual(docs);
  });
});

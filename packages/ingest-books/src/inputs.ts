import { stat } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { EmptyInputError, InputNotFoundError } from '@pretext/core';
import { naturalCompare } from './normalize.js';

export interface InputFile {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the input it came from (the folder, the glob's fixed prefix), or the file's name. */
  readonly relative: string;
  /** True when the file was named itself rather than found in a folder or by a glob. */
  readonly explicit: boolean;
}

/** File extensions a folder is searched for. */
export const BOOK_EXTENSIONS = ['txt', 'epub'] as const;

/** The leading path segments of a glob that hold no pattern characters. */
function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (part !== '' && fg.isDynamicPattern(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '.';
}

export interface ExpandFilesOptions {
  /** fast-glob patterns (case-insensitive) that find the input files in a folder. */
  readonly folderPatterns: string | readonly string[];
  /** The kind of file `folderPatterns` finds, for the message of a folder without any (e.g. `.txt or .epub`). */
  readonly folderHolds: string;
  /** Files found in a folder that are not inputs themselves (e.g. index files beside dumps). */
  readonly skipInFolder?: RegExp;
  /** What relative inputs are resolved against. Default `process.cwd()`. */
  readonly cwd?: string;
}

/**
 * Expands files, folders and globs into a list of files: in input order, each folder or glob in natural order,
 * each file once. Files named directly are taken whatever their name. Missing path → InputNotFoundError; a
 * folder without input files or a glob matching nothing → EmptyInputError.
 */
export async function expandFiles(inputs: readonly string[], options: ExpandFilesOptions): Promise<InputFile[]> {
  const cwd = options.cwd ?? process.cwd();
  if (inputs.length === 0) throw new EmptyInputError('(no inputs)', 'no input given');
  const out: InputFile[] = [];
  const seen = new Set<string>();
  const add = (file: InputFile) => {
    if (seen.has(file.path)) return;
    seen.add(file.path);
    out.push(file);
  };
  for (const input of inputs) {
    const pattern = input.split(path.sep).join('/');
    if (fg.isDynamicPattern(pattern)) {
      const base = path.resolve(cwd, globBase(pattern));
      const found = await fg(pattern, { cwd, absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: true });
      if (found.length === 0) throw new EmptyInputError(input, 'the glob matches no files');
      for (const f of found.map((f) => path.normalize(f)).sort(naturalCompare)) add({ path: f, relative: path.relative(base, f), explicit: false });
      continue;
    }
    const abs = path.resolve(cwd, input);
    let info;
    try {
      info = await stat(abs);
    } catch {
      throw new InputNotFoundError(input);
    }
    if (info.isDirectory()) {
      const found = await fg(options.folderPatterns as string | string[], { cwd: abs, onlyFiles: true, caseSensitiveMatch: false, followSymbolicLinks: true });
      const files = (options.skipInFolder ? found.filter((f) => !options.skipInFolder!.test(f)) : found).sort(naturalCompare);
      if (files.length === 0) throw new EmptyInputError(input, `the folder holds no ${options.folderHolds} files`);
      for (const rel of files) add({ path: path.join(abs, rel), relative: rel, explicit: false });
    } else {
      add({ path: abs, relative: path.basename(abs), explicit: true });
    }
  }
  return out;
}

/** `expandFiles` for books: folders are searched for `.txt` and `.epub` files. */
export async function expandInputs(inputs: readonly string[], cwd = process.cwd()): Promise<InputFile[]> {
  return expandFiles(inputs, {
    folderPatterns: `**/*.{${BOOK_EXTENSIONS.join(',')}}`,
    folderHolds: BOOK_EXTENSIONS.map((e) => '.' + e).join(' or '),
    cwd,
  });
}

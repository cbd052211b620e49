import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test data the tests need is not there. Tests must fail with this (never pass silently) when the shared
 * corpora are missing.
 */
export class TestDataMissingError extends Error {
  readonly code = 'TestDataMissing';
  constructor(
    /** The file or folder that was looked for. */
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'TestDataMissingError';
  }
}

const here = (from: string | URL): string =>
  typeof from === 'string' && !from.startsWith('file:') ? path.resolve(from) : fileURLToPath(from);

/**
 * The repository root: the nearest folder holding `nx.json` above `from` (a file path or `file:` URL; default
 * this module, which lives inside the repository).
 */
export function repoRoot(from: string | URL = import.meta.url): string {
  const start = here(from);
  for (let dir = path.dirname(start); ; ) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new TestDataMissingError(start, 'no nx.json above it; run the tests inside the pretext repository');
    dir = up;
  }
}

/**
 * The shared corpora folder, `../shared/corpora` beside the repository root (where CI keeps it; its
 * SOURCES.md says what each file is). Throws `TestDataMissingError` when it is missing.
 */
export function sharedCorporaDir(from: string | URL = import.meta.url): string {
  const dir = path.resolve(repoRoot(from), '../shared/corpora');
  if (!existsSync(dir)) {
    throw new TestDataMissingError(dir, 'the shared test corpora are missing; the tests need them at ../shared/corpora beside the repository');
  }
  return dir;
}

/**
 * Absolute path of a file or folder in the shared corpora (`parts` are joined: `corpus('books', 'x.txt')` or
 * `corpus('books/x.txt')`). Throws `TestDataMissingError` when it is not there.
 */
export function corpus(...parts: string[]): string {
  const file = path.join(sharedCorporaDir(), ...parts);
  if (!existsSync(file)) throw new TestDataMissingError(file, 'missing from the shared test corpora (see their SOURCES.md)');
  return file;
}

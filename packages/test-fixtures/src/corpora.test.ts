import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TestDataMissingError, corpus, repoRoot, sharedCorporaDir } from './index.js';

const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('repoRoot', () => {
  it('is the monorepo root, from this module or from a test file URL', () => {
    const root = repoRoot();
    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).name).toBe('pretext-monorepo');
    expect(repoRoot(import.meta.url)).toBe(root);
    expect(repoRoot(pathToFileURL(path.join(root, 'packages/core/src/index.ts')))).toBe(root);
  });

  it('throws a typed error naming the start when no nx.json is above it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pretext-fixtures-'));
    temps.push(dir);
    const from = path.join(dir, 'a.test.ts');
    expect(() => repoRoot(from)).toThrow(TestDataMissingError);
    expect(() => repoRoot(from)).toThrow(new RegExp(`^${from}: no nx\\.json above it`));
  });
});

describe('sharedCorporaDir and corpus', () => {
  it('find ../shared/corpora beside the repository and files in it', () => {
    const dir = sharedCorporaDir();
    expect(dir).toBe(path.resolve(repoRoot(), '../shared/corpora'));
    expect(existsSync(path.join(dir, 'SOURCES.md'))).toBe(true);
    const book = corpus('books/gutenberg/markovify/sherlock.txt');
    expect(book).toBe(path.join(dir, 'books/gutenberg/markovify/sherlock.txt'));
    expect(corpus('books', 'gutenberg', 'markovify', 'sherlock.txt')).toBe(book);
    expect(statSync(book).size).toBeGreaterThan(100_000);
    expect(statSync(corpus('wikipedia')).isDirectory()).toBe(true);
  });

  it('fail loudly, naming the path, when a corpus file is missing', () => {
    const missing = path.join(sharedCorporaDir(), 'books/no-such-book.txt');
    let error: unknown;
    try {
      corpus('books/no-such-book.txt');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TestDataMissingError);
    expect((error as TestDataMissingError).path).toBe(missing);
    expect((error as TestDataMissingError).code).toBe('TestDataMissing');
  });

  it('fail loudly when the corpora folder itself is missing', async () => {
    // A repository (nx.json) with no shared/corpora beside it.
    const outer = await mkdtemp(path.join(tmpdir(), 'pretext-fixtures-'));
    temps.push(outer);
    const repo = path.join(outer, 'repo');
    await mkdir(path.join(repo, 'packages/x/src'), { recursive: true });
    await writeFile(path.join(repo, 'nx.json'), '{}');
    const from = pathToFileURL(path.join(repo, 'packages/x/src/a.test.ts'));
    expect(repoRoot(from)).toBe(repo);
    expect(() => sharedCorporaDir(from)).toThrow(TestDataMissingError);
    expect(() => sharedCorporaDir(from)).toThrow(`${path.join(outer, 'shared/corpora')}: the shared test corpora are missing`);
  });
});

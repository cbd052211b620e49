import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import { captureOutputOfEachTest, clearOutput, run, stderr, stdout } from './output.test-helper.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pretext-cli-'));
});
captureOutputOfEachTest();

describe('pretext ingest books: bad input', () => {
  it('a missing path exits 1 with one line naming it, and writes nothing', async () => {
    const missing = join(dir, 'nope');
    const out = join(dir, 'out');
    expect(await run('ingest', 'books', missing, '--out', out)).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(missing);
    await expect(readdir(out).catch(() => [])).resolves.not.toContain('manifest.json');
  });

  it('an empty folder exits 1 naming the folder', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    expect(await run('ingest', 'books', empty, '--out', join(dir, 'out'))).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(empty);
  });

  it('a file that is not UTF-8 is named; --strict stops with no manifest, default keeps the good files and exits 2', async () => {
    const books = join(dir, 'books');
    await mkdir(books);
    await writeFile(join(books, 'good.txt'), 'Call me Ishmael. Some years ago, never mind how long precisely.\n\nHaving little money in my purse.\n');
    await writeFile(join(books, 'bad.txt'), Buffer.from([0x48, 0x69, 0x20, 0xff, 0xfe, 0x00, 0x41, 0x0a]));

    const strictOut = join(dir, 'strict');
    expect(await run('ingest', 'books', books, '--out', strictOut, '--strict')).toBe(1);
    expect(stderr).toContain(join(books, 'bad.txt'));
    expect(await readdir(strictOut).catch(() => [] as string[])).not.toContain('manifest.json');

    clearOutput();
    const out = join(dir, 'lenient');
    expect(await run('ingest', 'books', books, '--out', out)).toBe(2);
    expect(stderr).toContain(join(books, 'bad.txt'));
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.rows).toBe(1);
    const table = tableFromIPC(await readFile(join(out, manifest.shards[0].file)));
    expect(String(table.getChild('text')!.get(0))).toContain('Call me Ishmael');
  });

  it('an unknown kind or a missing --out is a one-line usage error', async () => {
    expect(await run('ingest', 'pdfs', dir, '--out', dir)).toBe(1);
    expect(stderr).toMatch(/pdfs/);
    clearOutput();
    expect(await run('ingest', 'books', dir)).toBe(1);
    expect(stderr).toMatch(/--out/);
  });
});

describe('pretext --help', () => {
  it.each([[], ['ingest'], ['tokenizer', 'train'], ['tokenizer', 'encode'], ['tokenize'], ['train'], ['demo']])('%s --help exits 0 and documents the options', async (...cmd) => {
    expect(await run(...cmd, '--help')).toBe(0);
    expect(stdout).toMatch(/Usage: pretext/);
    expect(stdout).toMatch(/--help/);
  });
});

describe('pretext train: bad input', () => {
  it('an unknown objective name is a one-line error naming it', async () => {
    expect(await run('train', '--objective', 'nope-objective', '--data', dir, '--tokenizer', join(dir, 't.json'), '--out', join(dir, 'run'))).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('nope-objective');
  });

  it('a non-numeric --max-steps is refused before any work', async () => {
    expect(await run('train', '--objective', 'clm', '--data', dir, '--tokenizer', 'x', '--out', dir, '--max-steps', 'ten')).toBe(1);
    expect(stderr).toContain('--max-steps');
  });
});

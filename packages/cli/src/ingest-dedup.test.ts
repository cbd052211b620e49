import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpus } from '@pretext/test-fixtures';
import { describe, expect, it } from 'vitest';
import { captureOutputOfEachTest, clearOutput, run, stderr, stdout } from './output.test-helper.js';

captureOutputOfEachTest();

describe('pretext ingest dedup', () => {
  it('reduces the rank folders of a two-machine run to the documents of a one-machine run, and refuses a missing rank', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pretext-cli-dedup-'));
    const input = join(dir, 'in');
    await mkdir(input);
    // Passages of a real book; the last file repeats the first, and falls on the other rank.
    const words = (await readFile(corpus('books/gutenberg/sentencepiece/botchan.txt'), 'utf8')).split(/\s+/).slice(2000);
    for (let k = 0; k < 3; k++) await writeFile(join(input, `${k}.txt`), words.slice(500 * k, 500 * k + 400).join(' '));
    await writeFile(join(input, '3.txt'), words.slice(0, 400).join(' '));
    const ingest = (out: string, ...more: string[]) => run('ingest', 'books', input, '--out', join(dir, out), '--workers', '1', '--no-filters', ...more);

    expect(await ingest('one'), stderr).toBe(0);
    for (const rank of ['0', '1']) expect(await ingest(`rank-${rank}`, '--rank', rank, '--world-size', '2'), stderr).toBe(0);
    expect(stdout).toMatch(/^dedup signatures\s+2 documents → .*rank-1\/dedup-signatures\.bin; after all ranks: pretext ingest dedup/m);
    clearOutput();
    expect(await run('ingest', 'dedup', join(dir, 'rank-0'), join(dir, 'rank-1'), '--out', join(dir, 'global')), stderr).toBe(0);
    expect(stdout).toMatch(/^ranks\s+2$/m);
    expect(stdout).toMatch(/^duplicates \(exact \/ near\)\s+1 \/ 0$/m);
    expect(stdout).toMatch(/^ {2}of them across ranks\s+1 \/ 0$/m);
    expect(stdout).toContain(`${join(dir, 'global')}/manifest.json`);
    const manifest = (name: string) => readFile(join(dir, name, 'manifest.json'), 'utf8').then((t) => JSON.parse(t));
    const [one, global] = [await manifest('one'), await manifest('global')];
    expect(global.rows).toBe(3);
    expect(global.shards.map((s: { sha256: string }) => s.sha256)).toEqual(one.shards.map((s: { sha256: string }) => s.sha256));

    clearOutput();
    expect(await run('ingest', 'dedup', join(dir, 'rank-1'), '--out', join(dir, 'x'))).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^pretext: rank 0 of 2: missing \(given: ranks 1\)/);

    clearOutput();
    expect(await run('ingest', 'dedup', '--help')).toBe(0);
    expect(stdout).toMatch(/Usage: pretext ingest dedup \[options\] <rank-dirs\.\.\.>/);
  });
});

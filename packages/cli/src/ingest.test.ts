import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpus } from '@pretext/test-fixtures';
import { beforeEach, describe, expect, it } from 'vitest';
import { captureOutputOfEachTest, run, stderr, stdout } from './output.test-helper.js';

const wet = corpus('commoncrawl/cc/eugeneware-warc/CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc.wet');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pretext-cli-ingest-'));
});
captureOutputOfEachTest();

describe('pretext ingest commoncrawl', () => {
  it('passes the filter and dedup flags to the pipeline and prints the final table', async () => {
    const out = join(dir, 'out');
    const code = await run('ingest', 'commoncrawl', wet, '--out', out, '--workers', '1', '--min-words', '20', '--gopher', 'off', '--no-near-dedup', '--shingle-size', '3', '--rejects', '2');
    expect(code, stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.settings.filters.length.minWords).toBe(20);
    expect(manifest.settings.filters.gopherQuality).toBeNull();
    expect(manifest.settings.dedup).toMatchObject({ exact: true, near: false, shingleSize: 3 });
    expect(manifest.schema.map((f: { name: string }) => f.name)).not.toContain('gopher_stop_words');
    expect(manifest.schema.map((f: { name: string }) => f.name)).toContain('lid_language');
    expect(stdout).toMatch(/^documents read\s+\d+$/m);
    expect(stdout).toMatch(/^kept\s+\d+ \(/m);
    expect(stdout).toContain(`${out}/manifest.json`);
    expect((await readFile(join(out, 'rejects.jsonl'), 'utf8')).trim().split('\n').filter(Boolean).length).toBeLessThanOrEqual(2);
  });

  it('refuses a rank outside the world size in one line', async () => {
    expect(await run('ingest', 'commoncrawl', wet, '--out', join(dir, 'x'), '--rank', '2', '--world-size', '2')).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/rank=2 is invalid/);
  });
});

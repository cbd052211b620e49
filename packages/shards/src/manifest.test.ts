import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pretext-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes text and bytes, replaces an existing file whole, and leaves no temporary file', async () => {
    const file = path.join(dir, 'state.json');
    await writeFile(file, 'x'.repeat(10_000));
    await writeFileAtomic(file, '{"done":true}');
    expect(await readFile(file, 'utf8')).toBe('{"done":true}');
    await writeFileAtomic(path.join(dir, 'bytes.bin'), Uint8Array.from([0, 255, 7]));
    expect([...(await readFile(path.join(dir, 'bytes.bin')))]).toEqual([0, 255, 7]);
    expect((await readdir(dir)).sort()).toEqual(['bytes.bin', 'state.json']);
  });

  it('fails naming the path when the folder does not exist', async () => {
    await expect(writeFileAtomic(path.join(dir, 'missing/state.json'), 'x')).rejects.toThrow(/ENOENT.*missing/);
  });
});

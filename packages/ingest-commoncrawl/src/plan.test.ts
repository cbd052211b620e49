import { gunzipSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, sample } from './corpora.test-helper.js';
import { planCommonCrawl, type WorkUnit } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pretext-ccplan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function repeat(src: string, times: number, name: string): Promise<string> {
  const bytes = await readFile(src);
  const file = path.join(dir, name);
  await writeFile(file, Buffer.concat(Array.from({ length: times }, () => bytes)));
  return file;
}

function contiguous(units: WorkUnit[], size: number): void {
  expect(units[0]!.start).toBe(0);
  expect(units.at(-1)!.end).toBe(size);
  units.forEach((u, i) => {
    expect(u.index).toBe(i);
    if (i > 0) expect(u.start).toBe(units[i - 1]!.end);
    expect(u.end).toBeGreaterThan(u.start);
  });
}

describe('planCommonCrawl', () => {
  it('cuts a multi-member WARC at gzip members that start records; the units together read the whole file', async () => {
    const file = await repeat(sample('cc/resiliparse/warcfile.warc.gz'), 6, 'six.warc.gz');
    const bytes = await readFile(file);
    const units = await planCommonCrawl(file, { targetBytes: 150_000 });
    expect(units.length).toBeGreaterThanOrEqual(4);
    contiguous(units, bytes.length);
    for (const u of units) {
      // Each unit starts with a whole gzip member holding a WARC record.
      const member = gunzipSync(bytes.subarray(u.start, Math.min(u.end, u.start + 200_000)), { finishFlush: 2 });
      expect(member.subarray(0, 9).toString('latin1')).toBe('WARC/1.0\r');
    }
    const whole = await collect(file);
    const parts = [];
    for (const u of units) {
      const r = await collect(u);
      expect(r.errors).toEqual([]);
      parts.push(...r.docs);
    }
    expect(parts.map((d) => d.id)).toEqual(whole.docs.map((d) => d.id));
    expect(whole.docs.length).toBe(6 * (await collect(sample('cc/resiliparse/warcfile.warc.gz'))).docs.length);
  });

  it('cuts an uncompressed WARC at record starts found by walking Content-Length', async () => {
    const file = await repeat(sample('cc/eugeneware-warc/CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc'), 4, 'four.warc');
    const bytes = await readFile(file);
    const units = await planCommonCrawl(file, { targetBytes: 100_000 });
    expect(units.length).toBeGreaterThanOrEqual(5);
    contiguous(units, bytes.length);
    for (const u of units) expect(bytes.subarray(u.start, u.start + 9).toString('latin1')).toBe('WARC/1.0\r');
    const whole = await collect(file);
    const parts = [];
    for (const u of units) parts.push(...(await collect(u)).docs);
    expect(parts.map((d) => d.id)).toEqual(whole.docs.map((d) => d.id));
  });

  it('keeps a small or single-member file as one unit', async () => {
    const small = sample('cc/jwarc/cc.warc.gz');
    expect(await planCommonCrawl(small)).toEqual([{ file: small, start: 0, end: 5392, index: 0 }]);
    expect(await planCommonCrawl(small, { targetBytes: 1000 })).toHaveLength(1);
  });
});

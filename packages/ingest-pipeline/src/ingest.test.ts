import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmptyInputError, InvalidTextError, MalformedInputError, type Document, type PretextError } from '@pretext/core';
import { readDocuments, readManifest } from '@pretext/shards';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { ingest, resolveDedup, resolveFilters, type IngestOptions } from './index.js';
import { processUnit } from './process.js';

afterAll(cleanTempDirs);

async function collect(dir: string): Promise<Document[]> {
  const out: Document[] = [];
  for await (const d of readDocuments(dir, { verify: true })) out.push(d);
  return out;
}

/** Every file of two output folders is byte-identical, except stats.json (it holds times and the worker count). */
async function expectSameFolders(a: string, b: string): Promise<string[]> {
  const files = (await readdir(a)).filter((f) => f !== 'stats.json').sort();
  expect((await readdir(b)).filter((f) => f !== 'stats.json').sort()).toEqual(files);
  for (const f of files) expect(Buffer.compare(await readFile(path.join(a, f)), await readFile(path.join(b, f))), f).toBe(0);
  return files;
}

// Small units and shards, so the ~1 MB of real Common Crawl samples become dozens of units and several shards.
const CC: Omit<IngestOptions, 'outDir'> = { kind: 'commoncrawl', inputs: [], unitBytes: 16_000, maxShardBytes: 40_000 };

describe('ingest commoncrawl', () => {
  it('gives byte-identical shards, manifest and rejects with 1 and 2 workers', async () => {
    const root = await tempDir();
    const inputs = [corpus('commoncrawl')];
    const progress: number[] = [];
    const one = await ingest({ ...CC, inputs, outDir: path.join(root, 'w1'), workers: 1 });
    const two = await ingest({ ...CC, inputs, outDir: path.join(root, 'w2'), workers: 2, onProgress: (p) => progress.push(p.bytes) });
    const files = await expectSameFolders(path.join(root, 'w1'), path.join(root, 'w2'));
    expect(files).toContain('manifest.json');
    expect(files).toContain('rejects.jsonl');
    expect(one.manifest).toEqual(two.manifest);
    expect(one.manifest.shards.length).toBeGreaterThan(2);
    expect(one.stats.units).toBeGreaterThan(30);
    expect(two.stats.workers).toBe(2);
    expect(progress.at(-1)).toBe(two.stats.inputBytes);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    // The counts add up: read = kept + dropped (filters and duplicates).
    const s = one.stats;
    const dropped = Object.values(s.dropped).reduce((n, k) => n + k, 0);
    expect(s.read).toBe(s.kept + dropped);
    expect(s.kept).toBe(one.manifest.rows);
    expect(s.dropped['too-short']).toBeGreaterThan(0);
    expect(s.skipped.request).toBeGreaterThan(0);
    expect(s.skipped.warcinfo).toBeGreaterThanOrEqual(10);
    expect(one.manifest.stats).toMatchObject({ read: s.read, kept: s.kept, dropped: s.dropped, documents: s.kept });
    expect(JSON.stringify(one.manifest)).not.toMatch(/seconds|workers/);

    // Rows carry the source's metadata and the filters' score columns.
    const docs = await collect(path.join(root, 'w1'));
    expect(docs.length).toBe(s.kept);
    const wet = docs.find((d) => d.meta?.file === 'cc/whirlwind-python/whirlwind.warc.wet.gz');
    expect(wet?.meta).toMatchObject({ url: 'https://an.wikipedia.org/wiki/Escopete', language: 'spa' });
    for (const d of docs) {
      expect(d.meta!.n_words).toBeGreaterThanOrEqual(50);
      expect(typeof d.meta!.lid_language).toBe('string');
      expect(d.meta!.lid_score).toBeGreaterThan(0);
      expect(typeof d.meta!.gopher_dup_5gram_frac).toBe('number');
    }
    const manifest = await readManifest(path.join(root, 'w1'));
    expect(manifest.schema.map((f) => f.name)).toEqual(
      expect.arrayContaining(['id', 'text', 'source', 'url', 'record_id', 'n_words', 'lid_language', 'lid_score', 'gopher_stop_words', 'gopher_top_2gram_frac']),
    );

    // The rejects sample shows what was removed and why.
    const rejects = (await readFile(path.join(root, 'w1', 'rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects.length).toBe(dropped);
    expect(new Set(rejects.map((r) => r.reason))).toEqual(new Set(Object.keys(s.dropped)));
    const short = rejects.find((r) => r.reason === 'too-short');
    expect(short.detail).toMatch(/^n_words=\d+ /);
    expect(short.text.length).toBeGreaterThan(0);

    const stats = JSON.parse(await readFile(path.join(root, 'w2', 'stats.json'), 'utf8'));
    expect(stats).toMatchObject({ read: s.read, kept: s.kept, workers: 2, kind: 'commoncrawl' });
    expect(stats.seconds).toBeGreaterThan(0);
    expect(stats.memory.peakRssBytes).toBeGreaterThan(0);
  });

  it('splits a run over ranks: the union of the shares is the full run', async () => {
    const root = await tempDir();
    // Dedup off: a rank deduplicates only its own share (see docs/ingest.md).
    const base = { ...CC, inputs: [corpus('commoncrawl/cc')], workers: 2, dedup: { exact: false, near: false } };
    const full = await ingest({ ...base, outDir: path.join(root, 'full') });
    const shares = [];
    for (let rank = 0; rank < 2; rank++) shares.push(await ingest({ ...base, workers: 1, outDir: path.join(root, `rank-${rank}`), rank, worldSize: 2 }));
    expect(shares.map((r) => r.stats.unitsRead).reduce((a, b) => a + b)).toBe(full.stats.units);
    expect(shares.every((r) => r.stats.unitsRead > 0)).toBe(true);
    for (const key of ['read', 'kept', 'inputBytes', 'textBytesKept'] as const) expect(shares.reduce((n, r) => n + r.stats[key], 0), key).toBe(full.stats[key]);
    const key = (d: Document) => `${d.id} ${d.meta?.record_id} ${d.meta?.file}`;
    const all = (await collect(path.join(root, 'full'))).map(key);
    const union = [];
    for (let rank = 0; rank < 2; rank++) union.push(...(await collect(path.join(root, `rank-${rank}`))).map(key));
    expect(union.sort()).toEqual(all.sort());
    expect(new Set(all).size).toBe(all.length);
  });

  it('reports bad files with file and position, keeps the good ones, and stops at the first in strict mode', async () => {
    const root = await tempDir();
    const input = path.join(root, 'in');
    await mkdir(input);
    const good = corpus('commoncrawl/cc/resiliparse/warcfile.warc.gz');
    await copyFile(good, path.join(input, 'a-good.warc.gz'));
    const bytes = await readFile(good);
    await writeFile(path.join(input, 'b-truncated.warc.gz'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await writeFile(path.join(input, 'c-empty.warc.gz'), '');
    const binary = Buffer.alloc(5000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 251;
    await writeFile(path.join(input, 'd-binary.warc'), binary);

    const errors: PretextError[] = [];
    const r = await ingest({ ...CC, inputs: [input], outDir: path.join(root, 'out'), workers: 2, onError: (e) => errors.push(e) });
    const byFile = new Map(r.stats.errors.files.map((f) => [path.basename(f.file), f]));
    expect([...byFile.keys()].sort()).toEqual(['b-truncated.warc.gz', 'c-empty.warc.gz', 'd-binary.warc']);
    expect(r.stats.errors.count).toBe(errors.length);
    expect(errors.every((e) => e instanceof MalformedInputError || e instanceof EmptyInputError || e instanceof InvalidTextError)).toBe(true);
    const truncated = byFile.get('b-truncated.warc.gz')!.errors[0]!;
    expect(truncated.message).toContain(path.join(input, 'b-truncated.warc.gz'));
    expect(typeof truncated.position).toBe('number');
    // Nothing good is lost: the good file and the intact start of the truncated copy are read.
    const alone = await processUnit({
      unit: { ordinal: 0, kind: 'commoncrawl', file: good, relative: 'a', start: 0, end: bytes.length, index: 0 },
      filters: resolveFilters('commoncrawl'),
      dedup: resolveDedup(),
      strict: true,
      rejectsSample: 0,
    });
    expect(alone.read).toBeGreaterThan(0);
    expect(r.stats.read).toBeGreaterThan(alone.read);
    expect(r.stats.duplicates.exact).toBeGreaterThan(0); // the truncated copy repeats the good file's pages
    expect(r.manifest.stats).toMatchObject({ errors: r.stats.errors });

    const strictOut = path.join(root, 'strict');
    const failure = await ingest({ ...CC, inputs: [input], outDir: strictOut, workers: 2, strict: true }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MalformedInputError);
    expect((failure as MalformedInputError).file).toBe(path.join(input, 'b-truncated.warc.gz'));
    expect(await readdir(strictOut)).not.toContain('manifest.json');
  });

  it('refuses bad options and missing inputs before writing anything', async () => {
    const root = await tempDir();
    const out = path.join(root, 'out');
    await expect(ingest({ kind: 'commoncrawl', inputs: [path.join(root, 'nope')], outDir: out })).rejects.toThrow(/nope: no such file/);
    await expect(ingest({ kind: 'commoncrawl', inputs: [root], outDir: out, rank: 2, worldSize: 2 })).rejects.toThrow(/rank=2 is invalid/);
    await expect(ingest({ kind: 'pdf' as 'books', inputs: [root], outDir: out })).rejects.toThrow(/kind="pdf"/);
    await expect(ingest({ kind: 'commoncrawl', inputs: [root], outDir: out, dedup: { bands: 0 } })).rejects.toThrow(/dedup.bands=0/);
    await expect(readdir(out)).rejects.toThrow();
  });
});

import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestError } from '@pretext/core';
import { parseTextBook } from '@pretext/ingest-books';
import { readDocuments, readManifest, type Manifest } from '@pretext/shards';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { GlobalDedupError, globalDedup, ingest, SignatureReader, type GlobalDedupProgress, type IngestOptions } from './index.js';
import type { SignatureFileInfo } from './signatures.js';

afterAll(cleanTempDirs);

async function ids(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of readDocuments(dir, { verify: true })) out.push(d.id);
  return out;
}

/** The manifest's counts without the signature file entry (which only rank folders have). */
function counts(m: Manifest): Record<string, unknown> {
  const { dedupSignatures: _, ...rest } = m.stats ?? {};
  return rest;
}

/** Ingests `base` as one machine and as ranks 0…W-1; returns the folders. */
async function oneAndRanks(root: string, base: Omit<IngestOptions, 'outDir'>, worldSize: number) {
  const one = await ingest({ ...base, outDir: path.join(root, 'one') });
  const ranks: string[] = [];
  for (let rank = 0; rank < worldSize; rank++) {
    const outDir = path.join(root, `rank-${rank}`);
    await ingest({ ...base, outDir, rank, worldSize });
    ranks.push(outDir);
  }
  return { one, ranks };
}

describe('globalDedup', () => {
  it('after ranks 0 and 1 of Common Crawl with a file copied, keeps exactly the documents of a one-machine run', async () => {
    const root = await tempDir();
    const input = path.join(root, 'in');
    await cp(corpus('commoncrawl'), path.join(input, 'cc'), { recursive: true });
    // A second copy of a real file: its pages are exact duplicates of pages on the other rank.
    await copyFile(corpus('commoncrawl/non-cc/dolma/sample-0000.warc.gz'), path.join(input, 'zz-copy.warc.gz'));
    const base = { kind: 'commoncrawl' as const, inputs: [input], unitBytes: 16_000, maxShardBytes: 40_000, workers: 1 };
    const { one, ranks } = await oneAndRanks(root, base, 2);

    // Each rank lists its signature file in its manifest, with one row per document that passed the filters.
    let rows = 0;
    for (const [rank, dir] of ranks.entries()) {
      const m = await readManifest(dir);
      const info = m.stats!.dedupSignatures as SignatureFileInfo;
      expect(info.file).toBe('dedup-signatures.bin');
      const reader = await SignatureReader.open(path.join(dir, info.file));
      expect(reader.header).toMatchObject({ rank, worldSize: 2, exact: true, near: true, bandKeys: 14, rows: 8, shingleSize: 5, seed: 1, rowCount: info.rows });
      await reader.close();
      const s = m.stats as { read: number; dropped: Record<string, number> };
      const filtered = Object.entries(s.dropped).filter(([k]) => !k.startsWith('duplicate-')).reduce((n, [, k]) => n + k, 0);
      expect(info.rows).toBe(s.read - filtered);
      rows += info.rows;
    }
    // Each rank alone keeps the copies that fall on the other rank.
    const rankKept = (await Promise.all(ranks.map(readManifest))).reduce((n, m) => n + m.rows, 0);
    expect(rankKept).toBeGreaterThan(one.manifest.rows);

    const progress: GlobalDedupProgress[] = [];
    const out = path.join(root, 'global');
    const g = await globalDedup({ inputs: [ranks[1]!, ranks[0]!], outDir: out, maxShardBytes: 40_000, onProgress: (p) => progress.push(p) });
    expect(await ids(out)).toEqual(await ids(path.join(root, 'one')));
    // Same documents, same order, same shard options: the shards are the same bytes, and the counts are the same.
    expect(g.manifest.shards.map((s) => s.sha256)).toEqual(one.manifest.shards.map((s) => s.sha256));
    expect(counts(g.manifest)).toEqual(counts(one.manifest));
    expect(g.stats.crossRank.exact).toBe(rankKept - one.manifest.rows);
    expect(g.stats.crossRank.exact).toBeGreaterThan(0);
    expect(g.stats.signatureRows).toBe(rows);
    expect(g.manifest.settings).toMatchObject({ kind: 'commoncrawl', worldSize: 2, globalDedup: true });
    expect(progress.at(-1)).toMatchObject({ rows, totalRows: rows, units: g.stats.units, kept: one.manifest.rows });
    expect(progress.map((p) => p.rows)).toEqual(progress.map((p) => p.rows).sort((a, b) => a - b));

    // Removed copies are in the rejects sample, with their reason and text.
    const rejects = (await readFile(path.join(out, 'rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const dup = rejects.filter((r) => r.reason === 'duplicate-exact');
    // The sample holds every dropped document here (fewer than 1000), so it is the one-machine run's file exactly.
    expect(rejects.length).toBeLessThan(1000);
    expect(await readFile(path.join(out, 'rejects.jsonl'), 'utf8')).toBe(await readFile(path.join(root, 'one', 'rejects.jsonl'), 'utf8'));
    expect(dup.length).toBe(one.stats.duplicates.exact);
    expect(dup.every((r) => r.text.length > 0 && r.file === 'zz-copy.warc.gz')).toBe(true);
    const stats = JSON.parse(await readFile(path.join(out, 'stats.json'), 'utf8'));
    expect(stats).toMatchObject({ kept: one.stats.kept, worldSize: 2, crossRank: g.stats.crossRank });
    expect(stats.memory.dedupBytes).toBeGreaterThan(0);
  });

  it('finds a near duplicate across ranks in the books (the Sherlock Holmes EPUB and .txt)', async () => {
    const root = await tempDir();
    // The EPUB is work unit 0 (rank 0), the .txt unit 1 (rank 1). No language scores: they play no part here.
    const inputs = [corpus('books/epub/mu-epub/pg1661-sherlock-holmes.epub'), corpus('books/gutenberg/markovify/sherlock.txt')];
    const base = { kind: 'books' as const, inputs, workers: 1, filters: { language: false as const } };
    const { one, ranks } = await oneAndRanks(root, base, 2);
    const g = await globalDedup({ inputs: ranks, outDir: path.join(root, 'global') });
    expect(one.stats.duplicates.near).toBe(1);
    expect(g.stats.crossRank.near).toBe(1);
    expect(await ids(path.join(root, 'global'))).toEqual(await ids(path.join(root, 'one')));
    expect(counts(g.manifest)).toEqual(counts(one.manifest));
  });

  it('brings back a near duplicate a rank dropped when the copy it matched is removed globally', async () => {
    // Real prose, cut into passages: A = Q, B = Q+R, C = R (Jaccard A~B ≈ B~C ≈ 0.5, A~C ≈ 0), X unrelated.
    // One machine keeps A, drops B (near A), keeps X and C (B is gone). Rank 1 alone holds B and C: it keeps B and
    // drops C; the reduce must remove B and restore C.
    const root = await tempDir();
    const words = parseTextBook(await readFile(corpus('books/gutenberg/sentencepiece/botchan.txt')), 'botchan.txt', 'botchan.txt').text.split(/\s+/);
    const part = (from: number) => words.slice(from, from + 800).join(' ');
    const [Q, R, X] = [part(2000), part(6000), part(12000)];
    const input = path.join(root, 'in');
    await mkdir(input);
    await writeFile(path.join(input, '1-a.txt'), Q);
    await writeFile(path.join(input, '2-b.txt'), `${Q}\n\n${R}`);
    await writeFile(path.join(input, '3-x.txt'), X);
    await writeFile(path.join(input, '4-c.txt'), R);
    // 40 bands of 2 rows: pairs at Jaccard 0.5 collide with probability 1 - 0.75^40 (1 - 1e-5), pairs at 0.01 with ~0.004.
    const base = { kind: 'books' as const, inputs: [input], workers: 1, dedup: { bands: 40, rows: 2 }, filters: { language: false as const } };
    const { one, ranks } = await oneAndRanks(root, base, 2);
    const files = async (dir: string) => {
      const out: string[] = [];
      for await (const d of readDocuments(dir)) out.push(String(d.meta?.file));
      return out;
    };
    expect(await files(path.join(root, 'one'))).toEqual(['1-a.txt', '3-x.txt', '4-c.txt']);
    expect(await files(ranks[1]!)).toEqual(['2-b.txt']);
    const held = (await readFile(path.join(ranks[1]!, 'dedup-held.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(held.map((d) => d.meta.file)).toEqual(['4-c.txt']);
    const g = await globalDedup({ inputs: ranks, outDir: path.join(root, 'global') });
    expect(await files(path.join(root, 'global'))).toEqual(['1-a.txt', '3-x.txt', '4-c.txt']);
    expect(g.manifest.shards.map((s) => s.sha256)).toEqual(one.manifest.shards.map((s) => s.sha256));
    expect(g.stats).toMatchObject({ restored: 1, crossRank: { exact: 0, near: 1 }, duplicates: { exact: 0, near: 1 } });
    expect(counts(g.manifest)).toEqual(counts(one.manifest));
  });

  it('refuses missing, repeated and mismatched rank folders with one-line errors', async () => {
    const root = await tempDir();
    const input = path.join(root, 'in');
    await mkdir(input);
    const words = parseTextBook(await readFile(corpus('books/gutenberg/sentencepiece/botchan.txt')), 'botchan.txt', 'botchan.txt').text.split(/\s+/);
    for (let k = 0; k < 3; k++) await writeFile(path.join(input, `${k}.txt`), words.slice(1000 * k, 1000 * k + 300).join(' '));
    const base = { kind: 'books' as const, inputs: [input], workers: 1, filters: { language: false as const } };
    const r = (k: number) => path.join(root, `rank-${k}`);
    for (let rank = 0; rank < 3; rank++) await ingest({ ...base, outDir: r(rank), rank, worldSize: 3 });
    const out = path.join(root, 'out');
    const fails = async (inputs: string[]) => {
      const e = await globalDedup({ inputs, outDir: out }).then(() => null, (error: unknown) => error);
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).not.toContain('\n');
      return e as Error;
    };

    const missing = await fails([r(0), r(2)]);
    expect(missing).toBeInstanceOf(GlobalDedupError);
    expect(missing.message).toMatch(/^rank 1 of 3: missing \(given: ranks 0, 2\)/);

    expect((await fails([r(0), r(1), r(2), r(1)])).message).toMatch(/rank-1: is given twice/);

    await cp(r(1), path.join(root, 'copy-of-1'), { recursive: true });
    const twice = await fails([r(0), r(1), path.join(root, 'copy-of-1'), r(2)]);
    expect(twice).toBeInstanceOf(GlobalDedupError);
    expect(twice.message).toMatch(/copy-of-1: is rank 1, like .*rank-1; give each rank's folder once/);

    // A rank run with other dedup parameters.
    const other = path.join(root, 'other-1');
    await ingest({ ...base, outDir: other, rank: 1, worldSize: 3, dedup: { bands: 20 } });
    expect((await fails([r(0), other, r(2)])).message).toMatch(/other-1: was ingested with dedup\.bands=20 but .*rank-0 with dedup\.bands=14; every rank must run with the same inputs and options/);

    // A one-machine folder has no signatures; a folder without a manifest is not a shard folder.
    const single = path.join(root, 'single');
    await ingest({ ...base, outDir: single });
    expect((await fails([single])).message).toMatch(/single: holds no dedup signatures/);
    const empty = path.join(root, 'empty');
    await mkdir(empty);
    expect(await fails([r(0), empty, r(2)])).toBeInstanceOf(ManifestError);

    // A damaged signature file.
    const damaged = path.join(root, 'damaged-2');
    await cp(r(2), damaged, { recursive: true });
    const sig = path.join(damaged, 'dedup-signatures.bin');
    const bytes = await readFile(sig);
    await writeFile(sig, bytes.subarray(0, bytes.length - 8));
    expect((await fails([r(0), r(1), damaged])).message).toMatch(/dedup-signatures\.bin: has \d+ bytes and \d+ rows but the manifest records/);

    // The output may not be a rank folder; and all of it works when the folders are right.
    await expect(globalDedup({ inputs: [r(0), r(1), r(2)], outDir: r(1) })).rejects.toThrow(/outDir=.* is invalid: expected a folder other than the rank folders/);
    const ok = await globalDedup({ inputs: [r(2), r(0), r(1)], outDir: out });
    expect(ok.manifest.rows).toBe(3);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { ManifestError, Rng, type TokenizedDocument } from '@pretext/core';
import { readDocuments, readTokenizedDocuments, writeTokenizedDocuments } from './index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pretext-tokens-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function makeDocs(n: number, vocabSize: number, seed = 1): TokenizedDocument[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = i % 11 === 4 ? 0 : 1 + rng.int(300);
    const ids = new Int32Array(len);
    for (let j = 0; j < len; j++) ids[j] = rng.int(vocabSize);
    if (len > 0) ids[0] = vocabSize - 1; // the largest id must survive the narrow column type
    const doc: { id: string; ids: Int32Array; sentenceStarts?: Int32Array; wordStarts?: Uint8Array } = { id: `t${i}`, ids };
    if (i % 2 === 0 && len > 0) doc.sentenceStarts = Int32Array.from(new Set([0, ...Array.from({ length: 3 }, () => rng.int(len))].sort((a, b) => a - b)));
    if (i % 3 === 0) doc.wordStarts = Uint8Array.from(ids, () => rng.int(2));
    return doc;
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('writeTokenizedDocuments / readTokenizedDocuments', () => {
  for (const [vocabSize, listType] of [
    [50257, 'List<Uint16>'],
    [65536, 'List<Uint16>'],
    [65537, 'List<Uint32>'],
    [250_000, 'List<Uint32>'],
  ] as const) {
    it(`round-trips with vocabSize ${vocabSize} as ${listType}`, async () => {
      const dir = await tempDir();
      const docs = makeDocs(400, vocabSize);
      const total = docs.reduce((n, d) => n + d.ids.length, 0);
      const manifest = await writeTokenizedDocuments(docs, { outDir: dir, vocabSize, maxShardTokens: 10_000, maxBatchTokens: 3_000, settings: { tokenizer: 'bpe' } });
      expect(manifest.kind).toBe('tokens');
      expect(manifest.stats).toEqual({ documents: 400, tokens: total });
      expect(manifest.settings).toEqual({ tokenizer: 'bpe', vocabSize });
      expect(manifest.shards.length).toBeGreaterThan(5);
      expect(manifest.schema).toEqual([
        { name: 'id', type: 'Utf8', nullable: false },
        { name: 'input_ids', type: listType, nullable: false },
        { name: 'sentence_starts', type: 'List<Int32>', nullable: true },
        { name: 'word_starts', type: 'List<Uint8>', nullable: true },
      ]);

      const table = tableFromIPC(await readFile(path.join(dir, 'part-00000.arrow')));
      expect(String(table.schema.fields[1]!.type)).toBe(listType);
      const child = table.getChild('input_ids')!.data[0]!.children[0]!;
      expect(child.values.BYTES_PER_ELEMENT).toBe(listType === 'List<Uint16>' ? 2 : 4);
      expect(Array.from(table.getChild('input_ids')!.get(0)!.toArray() as ArrayLike<number>)).toEqual(Array.from(docs[0]!.ids));

      const back = await collect(readTokenizedDocuments(dir, { verify: true }));
      expect(back.length).toBe(docs.length);
      back.forEach((d, i) => {
        const src = docs[i]!;
        expect(d.id).toBe(src.id);
        expect(d.ids).toBeInstanceOf(Int32Array);
        expect(d.ids).toEqual(src.ids);
        expect(d.sentenceStarts).toEqual(src.sentenceStarts);
        expect(d.wordStarts).toEqual(src.wordStarts);
      });
    });
  }

  it('is deterministic and rejects ids outside the vocabulary', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const ma = await writeTokenizedDocuments(makeDocs(100, 1000), { outDir: a, vocabSize: 1000, maxShardTokens: 5000 });
    const mb = await writeTokenizedDocuments(makeDocs(100, 1000), { outDir: b, vocabSize: 1000, maxShardTokens: 5000 });
    expect(mb).toEqual(ma);
    for (const s of ma.shards) expect(Buffer.compare(await readFile(path.join(a, s.file)), await readFile(path.join(b, s.file)))).toBe(0);
    expect(Buffer.compare(await readFile(path.join(a, 'manifest.json')), await readFile(path.join(b, 'manifest.json')))).toBe(0);

    await expect(writeTokenizedDocuments([{ id: 'x', ids: Int32Array.of(1, 1000) }], { outDir: a, vocabSize: 1000 })).rejects.toThrow(
      /input_ids\[1\] of document x=1000 is invalid/,
    );
    await expect(writeTokenizedDocuments([{ id: 'x', ids: Int32Array.of(-1) }], { outDir: a, vocabSize: 1000 })).rejects.toThrow(/=-1 is invalid/);
    await expect(writeTokenizedDocuments([{ id: 'x', ids: Int32Array.of(1, 2), wordStarts: Uint8Array.of(1) }], { outDir: a, vocabSize: 1000 })).rejects.toThrow(/one flag per token/);
    await expect(writeTokenizedDocuments([], { outDir: a, vocabSize: 0 })).rejects.toThrow(/vocabSize=0/);
  });

  it('resumes an interrupted run to the same manifest', async () => {
    const dir = await tempDir();
    const docs = makeDocs(200, 1000);
    const full = await writeTokenizedDocuments(docs, { outDir: dir, vocabSize: 1000, maxShardTokens: 5000 });
    await rm(path.join(dir, 'manifest.json'));
    for (const s of full.shards.slice(2)) await rm(path.join(dir, s.file));
    expect(await writeTokenizedDocuments(docs, { outDir: dir, vocabSize: 1000, maxShardTokens: 5000, resume: true })).toEqual(full);
  });

  it('tells a resumed producer what the kept shards hold, so it can pass their documents without ids', async () => {
    const dir = await tempDir();
    const docs = makeDocs(200, 1000);
    const full = await writeTokenizedDocuments(docs, { outDir: dir, vocabSize: 1000, maxShardTokens: 5000 });
    const fullBytes = await Promise.all(full.shards.map((s) => readFile(path.join(dir, s.file))));
    await rm(path.join(dir, 'manifest.json'));
    for (const s of full.shards.slice(2)) await rm(path.join(dir, s.file));
    const keptRows = full.shards[0]!.rows + full.shards[1]!.rows;
    const keptTokens = docs.slice(0, keptRows).reduce((n, d) => n + d.ids.length, 0);
    let kept: { documents: number; tokens: number } | undefined;
    const resumed = await writeTokenizedDocuments(
      (function* () {
        // the producer learns the count before it makes its first document
        expect(kept).toEqual({ documents: keptRows, tokens: keptTokens });
        for (const [i, d] of docs.entries()) yield i < kept!.documents ? { id: d.id, ids: new Int32Array(0) } : d;
      })(),
      { outDir: dir, vocabSize: 1000, maxShardTokens: 5000, resume: true, onResume: (k) => (kept = k) },
    );
    expect(resumed).toEqual(full);
    for (const [i, s] of resumed.shards.entries()) expect((await readFile(path.join(dir, s.file))).equals(fullBytes[i]!)).toBe(true);
    let fresh: { documents: number; tokens: number } | undefined;
    await writeTokenizedDocuments(docs.slice(0, 3), { outDir: await tempDir(), vocabSize: 1000, onResume: (k) => (fresh = k) });
    expect(fresh).toEqual({ documents: 0, tokens: 0 });
  });

  it('refuses to read token shards as documents', async () => {
    const dir = await tempDir();
    await writeTokenizedDocuments(makeDocs(3, 100), { outDir: dir, vocabSize: 100 });
    await expect(collect(readDocuments(dir))).rejects.toBeInstanceOf(ManifestError);
  });
});

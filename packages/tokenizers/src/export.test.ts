import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, Rng, type TokenizedDocument } from '@pretext/core';
import { writeDocuments, writeTokenizedDocuments, readTokenizedDocuments } from '@pretext/shards';
import { beforeAll, describe, expect, it } from 'vitest';
import { englishTexts, GPT2_JSON } from '../test/corpora.js';
import { exportLlmc, exportMegatron, tokenizeShards } from './index.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'pretext-export-'));

// Readers written from the format descriptions (Megatron-LM indexed_dataset.py, llm.c data_common.py), sharing no code with the writers.
function readMegatron(prefix: string) {
  const idx = readFileSync(`${prefix}.idx`);
  expect(idx.subarray(0, 9).toString('latin1')).toBe('MMIDIDX\x00\x00');
  expect(idx.readBigUInt64LE(9)).toBe(1n);
  const dtype = idx.readUInt8(17);
  const seqCount = Number(idx.readBigUInt64LE(18));
  const docCount = Number(idx.readBigUInt64LE(26));
  let p = 34;
  const lengths = Array.from({ length: seqCount }, (_, i) => idx.readInt32LE(p + 4 * i));
  p += 4 * seqCount;
  const pointers = Array.from({ length: seqCount }, (_, i) => Number(idx.readBigInt64LE(p + 8 * i)));
  p += 8 * seqCount;
  const docIndex = Array.from({ length: docCount }, (_, i) => Number(idx.readBigInt64LE(p + 8 * i)));
  p += 8 * docCount;
  expect(p).toBe(idx.length);
  const bin = readFileSync(`${prefix}.bin`);
  const size = dtype === 8 ? 2 : dtype === 4 ? 4 : NaN;
  const sequences = lengths.map((len, i) =>
    Array.from({ length: len }, (_, k) => (size === 2 ? bin.readUInt16LE(pointers[i]! + 2 * k) : bin.readInt32LE(pointers[i]! + 4 * k))),
  );
  const docs = docIndex.slice(0, -1).map((start, d) => sequences.slice(start, docIndex[d + 1]));
  return { dtype, docs, docIndex, binBytes: bin.length };
}

function readLlmc(file: string) {
  const b = readFileSync(file);
  const header = Array.from({ length: 256 }, (_, i) => b.readInt32LE(4 * i));
  const size = header[1] === 1 ? 2 : 4;
  const tokens = Array.from({ length: header[2]! }, (_, i) => (size === 2 ? b.readUInt16LE(1024 + 2 * i) : b.readUInt32LE(1024 + 4 * i)));
  expect(b.length).toBe(1024 + size * header[2]!);
  return { magic: header[0], version: header[1], tokens };
}

async function collect(dir: string): Promise<TokenizedDocument[]> {
  const out: TokenizedDocument[] = [];
  for await (const d of readTokenizedDocuments(dir)) out.push(d);
  return out;
}

let gptTokens: string;
let docs: TokenizedDocument[];
beforeAll(async () => {
  const docDir = tmp();
  await writeDocuments(
    englishTexts(12).map((text, i) => ({ id: `d${i}`, text, source: 'books' })),
    { outDir: docDir },
  );
  gptTokens = tmp();
  await tokenizeShards({ input: docDir, tokenizer: GPT2_JSON(), outDir: gptTokens, workers: 0 });
  docs = await collect(gptTokens);
});

describe('exportMegatron', () => {
  it('writes .bin/.idx that read back to the same tokens and document boundaries (uint16)', async () => {
    const prefix = path.join(tmp(), 'out', 'corpus_text_document');
    const r = await exportMegatron(gptTokens, prefix);
    const back = readMegatron(prefix);
    expect(back.dtype).toBe(8);
    expect(back.docs.length).toBe(docs.length);
    back.docs.forEach((seqs, i) => {
      expect(seqs.length).toBe(1);
      expect(seqs[0]).toEqual(Array.from(docs[i]!.ids));
    });
    expect(r.tokens).toBe(docs.reduce((n, d) => n + d.ids.length, 0));
    expect(back.binBytes).toBe(2 * r.tokens);
  });

  it('splits sentences into sequences and appends eod like --split-sentences --append-eod', async () => {
    const prefix = path.join(tmp(), 'sent');
    await exportMegatron(gptTokens, prefix, { splitSentences: true, eod: 50256 });
    const back = readMegatron(prefix);
    back.docs.forEach((seqs, i) => {
      const d = docs[i]!;
      expect(seqs.length).toBe(d.sentenceStarts?.length ?? 1);
      expect(seqs.flat()).toEqual([...Array.from(d.ids), 50256]);
      if (d.sentenceStarts) expect(seqs.map((s) => s.length).slice(0, -1)).toEqual(Array.from(d.sentenceStarts.slice(1), (s, k) => s - d.sentenceStarts![k]!));
    });
    await expect(exportMegatron(gptTokens, prefix, { eod: 60000 })).rejects.toThrow(ConfigError);
  });

  it('uses int32 for vocabularies of 65500 ids and more', async () => {
    const rng = new Rng(5);
    const big = Array.from({ length: 20 }, (_, i) => ({ id: `b${i}`, ids: Int32Array.from({ length: 1 + rng.int(300) }, () => rng.int(100_000)) }));
    const dir = tmp();
    await writeTokenizedDocuments(big, { outDir: dir, vocabSize: 100_000 });
    const prefix = path.join(tmp(), 'big');
    await exportMegatron(dir, prefix);
    const back = readMegatron(prefix);
    expect(back.dtype).toBe(4);
    expect(back.docs.map((s) => s[0])).toEqual(big.map((d) => Array.from(d.ids)));
  });
});

describe('exportLlmc', () => {
  it('writes the header and tokens with <|endoftext|> before every document (uint16)', async () => {
    const file = path.join(tmp(), 'train.bin');
    const r = await exportLlmc(gptTokens, file);
    const back = readLlmc(file);
    expect([back.magic, back.version]).toEqual([20240520, 1]);
    const expected = docs.flatMap((d) => [50256, ...Array.from(d.ids)]);
    expect(back.tokens).toEqual(expected);
    expect(r.tokens).toBe(expected.length);
  });

  it('splits into numbered files of shardTokens and uses version 7 uint32 above 65536 ids', async () => {
    const dir = tmp();
    const out = path.join(dir, 'fineweb_train.bin');
    await exportLlmc(gptTokens, out, { shardTokens: 10_000 });
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(2);
    expect(files[0]).toBe('fineweb_train_000000.bin');
    const all = files.flatMap((f) => readLlmc(path.join(dir, f)).tokens);
    expect(all).toEqual(docs.flatMap((d) => [50256, ...Array.from(d.ids)]));
    const rng = new Rng(9);
    const big = Array.from({ length: 10 }, (_, i) => ({ id: `b${i}`, ids: Int32Array.from({ length: 50 }, () => 1 + rng.int(99_999)) }));
    const bigDir = tmp();
    await writeTokenizedDocuments(big, { outDir: bigDir, vocabSize: 100_000 });
    await expect(exportLlmc(bigDir, path.join(tmp(), 'x.bin'))).rejects.toThrow(/eot/);
    const f = path.join(tmp(), 'big.bin');
    await exportLlmc(bigDir, f, { eot: 0 });
    const back = readLlmc(f);
    expect([back.magic, back.version]).toEqual([20240801, 7]);
    expect(back.tokens).toEqual(big.flatMap((d) => [0, ...Array.from(d.ids)]));
  });
});

import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeDocuments, readDocuments, readTokenizedDocuments, readManifest } from '@pretext/shards';
import type { Document } from '@pretext/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BERT_JSON, books, englishTexts, GPT2_JSON } from '../test/corpora.js';
import { loadTokenizer, tokenizeShards, sentenceOffsets, sentenceTokenStarts, type Tokenizer } from './index.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'pretext-tokenize-'));

let docsDir: string;
let docs: Document[];
let gpt2: Tokenizer;
beforeAll(async () => {
  gpt2 = await loadTokenizer(GPT2_JSON());
  docs = [
    ...englishTexts(20).map((text, i) => ({ id: `en-${i}`, text, source: 'books' })),
    ...books().map((b) => ({ id: b.name, text: b.text.slice(0, 250_000), source: 'books' })),
    { id: 'empty', text: '', source: 'books' },
  ];
  docsDir = tmp();
  await writeDocuments(docs, { outDir: docsDir, maxShardBytes: 400_000 });
  // expectations come from the texts as stored (Arrow's UTF-8 decoding drops a leading byte-order mark)
  docs = [];
  for await (const d of readDocuments(docsDir)) docs.push(d);
});

describe('sentence boundaries', () => {
  it('splits on terminal punctuation before a capital, CJK full stops and blank lines, not after abbreviations', () => {
    const text = 'Mr. Holmes sat down. "Watson," he said! It cost 3 p.m. money? Yes.\r\n\r\nNew part. J. Smith came. e.g. this. 東京に行った。次の日、雨。\n(Aside.) Done';
    const starts = sentenceOffsets(text).map((o) => text.slice(o, o + 6));
    expect(starts).toEqual(['"Watso', 'It cos', 'Yes.\r\n', 'New pa', 'J. Smi', '次の日、雨。', '(Aside', 'Done']);
  });

  it('maps sentence starts to token indexes (GPT-2 carries the space into the first word)', () => {
    const text = 'One here. Two there.\n\nThree.';
    const e = gpt2.encodeWithOffsets(text);
    const s = Array.from(sentenceTokenStarts(sentenceOffsets(text), e.ends));
    expect(s.map((t) => gpt2.idToToken(e.ids[t]!))).toEqual(['One', 'ĠTwo', 'Three']);
  });
});

describe('tokenizeShards', () => {
  it('writes token shards equal to encoding each document, in order, with word and sentence starts', async () => {
    const out = tmp();
    const seen: number[] = [];
    const manifest = await tokenizeShards({
      input: docsDir,
      tokenizer: gpt2,
      outDir: out,
      workers: 1,
      batchChars: 100_000,
      onProgress: (p) => seen.push(p.bytes),
    });
    expect(manifest.rows).toBe(docs.length);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.at(-1)).toBe(docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0));
    let i = 0;
    let tokens = 0;
    for await (const t of readTokenizedDocuments(out)) {
      const d = docs[i++]!;
      expect(t.id).toBe(d.id);
      const e = gpt2.encodeWithOffsets(d.text);
      expect(Buffer.from(t.ids.buffer, t.ids.byteOffset, t.ids.byteLength).equals(Buffer.from(e.ids.buffer))).toBe(true);
      expect(Array.from(t.wordStarts ?? [])).toEqual(Array.from(e.wordStarts));
      if (d.text.length > 2000) expect(t.sentenceStarts!.length).toBeGreaterThan(5);
      tokens += t.ids.length;
    }
    expect(i).toBe(docs.length);
    expect(manifest.stats?.tokens).toBe(tokens);
    expect(manifest.settings.vocabSize).toBe(50257);
    expect(manifest.schema.find((f) => f.name === 'input_ids')?.type).toBe('List<Uint16>');
  });

  it('gives byte-identical shards and manifest in-thread and with 3 workers', async () => {
    const run = async (workers: number) => {
      const out = tmp();
      const m = await tokenizeShards({ input: docsDir, tokenizer: GPT2_JSON(), outDir: out, workers, batchChars: 200_000, maxShardTokens: 150_000 });
      return { m, files: m.shards.map((s) => readFileSync(path.join(out, s.file))), manifest: readFileSync(path.join(out, 'manifest.json'), 'utf8') };
    };
    const [a, c] = [await run(0), await run(3)];
    expect(a.m.shards.length).toBeGreaterThan(2);
    expect(c.manifest).toBe(a.manifest);
    c.files.forEach((f, i) => expect(f.equals(a.files[i]!)).toBe(true));
  });

  it('tokenizes with WordPiece too, and resumes an interrupted output folder to the same result', async () => {
    const out = tmp();
    const m = await tokenizeShards({ input: docsDir, tokenizer: BERT_JSON(), outDir: out, workers: 2, maxShardTokens: 200_000 });
    expect((await readManifest(out)).rows).toBe(docs.length);
    const again = await tokenizeShards({ input: docsDir, tokenizer: BERT_JSON(), outDir: out, workers: 2, maxShardTokens: 200_000, resume: true });
    expect(again.shards).toEqual(m.shards);
    const first = await (async () => {
      for await (const t of readTokenizedDocuments(out)) return t;
    })();
    expect(first!.ids[0]).not.toBe(101); // no [CLS]: objectives add their own special tokens
  });

  it('resumes a run interrupted after some shards to the bytes of an uninterrupted run', async () => {
    const opts = { input: docsDir, tokenizer: gpt2, workers: 0, batchChars: 50_000, maxShardTokens: 60_000 };
    const whole = tmp();
    const full = await tokenizeShards({ ...opts, outDir: whole });
    expect(full.shards.length).toBeGreaterThan(3);
    const out = tmp();
    let batches = 0;
    await expect(
      tokenizeShards({
        ...opts,
        outDir: out,
        onProgress: () => {
          if (++batches === 4) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    // finished shards stay on disk for the resumed run to keep
    expect(readdirSync(out).filter((f) => f.endsWith('.arrow')).length).toBeGreaterThan(0);
    const resumed = await tokenizeShards({ ...opts, outDir: out, resume: true });
    expect(readFileSync(path.join(out, 'manifest.json'), 'utf8')).toBe(readFileSync(path.join(whole, 'manifest.json'), 'utf8'));
    expect(resumed.shards).toEqual(full.shards);
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocuments, readDocuments, readTokenizedDocuments, readManifest } from '@pretext/shards';
import type { Document } from '@pretext/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BERT_JSON, books, englishTexts, GPT2_JSON } from '../test/corpora.js';
import { defaultWorkers, loadTokenizer, tokenizeShards, sentenceOffsets, sentenceTokenStarts, type TokenizeProgress, type Tokenizer } from './index.js';

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
    // the stored bytes, as the input manifest counts them (three of the books start with a byte-order mark)
    expect(seen.at(-1)).toBe((await readManifest(docsDir)).stats?.textBytes);
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

  it('gives byte-identical shards and manifest in-thread and with 1 and 3 worker threads (2: see the resume tests)', async () => {
    const ref = await reference();
    expect(ref.files.length).toBeGreaterThan(3);
    for (const workers of [1, 3]) {
      // small units, so every worker gets several and they finish out of order
      const out = tmp();
      await tokenizeShards({ ...SHARDED, input: docsDir, tokenizer: workers === 3 ? GPT2_JSON() : gpt2, outDir: out, workers, batchChars: 30_000 });
      expect(files(out)).toEqual(ref.files);
      expect(readFileSync(path.join(out, 'manifest.json'), 'utf8')).toBe(ref.manifest);
      for (const f of ref.files) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(ref.dir, f))), `${workers} workers: ${f}`).toBe(true);
    }
  });

  it('defaults to one worker per 32 MB of text, at most one per core and 8, and this thread below two workers', () => {
    expect(defaultWorkers(20e6, 16)).toBe(0);
    expect(defaultWorkers(100e6, 2)).toBe(2);
    expect(defaultWorkers(40e6, 16)).toBe(0);
    expect(defaultWorkers(100e6, 16)).toBe(3);
    expect(defaultWorkers(undefined, 16)).toBe(8);
    expect(defaultWorkers(1e12, 1)).toBe(0);
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

  it('resumes a run aborted mid-way (2 workers) without tokenizing the kept documents again, to the bytes of an uninterrupted run', async () => {
    const ref = await reference();
    const out = tmp();
    const controller = new AbortController();
    await expect(
      tokenizeShards({
        ...SHARDED,
        input: docsDir,
        tokenizer: gpt2,
        outDir: out,
        workers: 2,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.tokens > 200_000) controller.abort(new Error('stopped by the test'));
        },
      }),
    ).rejects.toThrow('stopped by the test');
    await expectResumedEqual(out, ref);
  });

  it('resumes a run whose process was killed (SIGKILL) mid-way to the bytes of an uninterrupted run', async () => {
    const ref = await reference();
    const out = tmp();
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = path.join(tmp(), 'killed.mts');
    // the child sleeps 40 ms after each unit of work so the kill lands mid-run on any machine
    writeFileSync(
      script,
      `import { tokenizeShards } from ${JSON.stringify(index)};
       await tokenizeShards({ ...${JSON.stringify(SHARDED)}, input: ${JSON.stringify(docsDir)}, tokenizer: ${JSON.stringify(GPT2_JSON())},
         outDir: ${JSON.stringify(out)}, workers: 2,
         onProgress: (p) => { process.stdout.write('tokens ' + p.tokens + '\\n'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40); } });
       process.stdout.write('finished\\n');`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@pretext/source', script], { cwd: path.dirname(index), stdio: ['ignore', 'pipe', 'inherit'] });
    let log = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const tokens = Math.max(0, ...[...log.matchAll(/tokens (\d+)/g)].map((m) => Number(m[1])));
        if (tokens > 200_000 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('close', () => resolve());
    });
    expect(log).not.toContain('finished');
    expect(child.signalCode).toBe('SIGKILL');
    await expectResumedEqual(out, ref);
  });
});

/** Options that give several token shards of the test documents. */
const SHARDED = { batchChars: 50_000, maxShardTokens: 60_000 };

const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.arrow')).sort();

let ref: Promise<{ dir: string; files: string[]; manifest: string }> | undefined;
/** The uninterrupted in-thread run with SHARDED options (made once). */
function reference() {
  ref ??= (async () => {
    const dir = tmp();
    await tokenizeShards({ ...SHARDED, input: docsDir, tokenizer: gpt2, outDir: dir, workers: 0 });
    return { dir, files: files(dir), manifest: readFileSync(path.join(dir, 'manifest.json'), 'utf8') };
  })();
  return ref;
}

/**
 * Resumes an interrupted output folder in this thread with a tokenizer that counts the documents it encodes:
 * only those after the kept shards are encoded, and the folder ends up byte-identical to the reference.
 */
async function expectResumedEqual(out: string, ref: { dir: string; files: string[]; manifest: string }) {
  expect(readdirSync(out)).not.toContain('manifest.json');
  const kept = files(out);
  expect(kept.length).toBeGreaterThan(1);
  expect(kept.length).toBeLessThan(ref.files.length);
  // the finished shards of the interrupted run are those of the uninterrupted one; count their documents
  const refShards = (JSON.parse(ref.manifest) as { shards: { file: string; rows: number }[] }).shards;
  let keptRows = 0;
  for (const f of kept) {
    expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(ref.dir, f))), f).toBe(true);
    keptRows += refShards.find((s) => s.file === f)!.rows;
  }
  expect(keptRows).toBeGreaterThan(0);
  let encoded = 0;
  const counting: Tokenizer = Object.assign(Object.create(gpt2) as Tokenizer, {
    encodeWithOffsets(text: string) {
      encoded++;
      return gpt2.encodeWithOffsets(text);
    },
  });
  let last: TokenizeProgress | undefined;
  const m = await tokenizeShards({ ...SHARDED, input: docsDir, tokenizer: counting, outDir: out, workers: 0, resume: true, onProgress: (p) => (last = p) });
  expect(last!.skipped).toBe(keptRows);
  expect(encoded).toBe(docs.length - keptRows);
  expect(last!.docs).toBe(docs.length);
  expect(last!.tokens).toBe(m.stats?.tokens);
  expect(files(out)).toEqual(ref.files);
  expect(readFileSync(path.join(out, 'manifest.json'), 'utf8')).toBe(ref.manifest);
  for (const f of ref.files) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(ref.dir, f))), f).toBe(true);
}

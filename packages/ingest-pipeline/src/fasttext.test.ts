import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedInputError } from '@pretext/core';
import { parseTextBook } from '@pretext/ingest-books';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { planWikipedia, readWikipedia } from '@pretext/ingest-wikipedia';
import { getLIDModel } from 'fasttext.wasm.js';
import { cleanTempDirs, corpus, tempDir } from './corpora.test-helper.js';
import { FastTextModel } from './fasttext.js';
import { LANGUAGE_MODEL_FILE } from './lid.js';

afterAll(cleanTempDirs);

/** The WebAssembly build of fastText (fasttext.wasm.js, the same lid.176.ftz): the oracle. */
interface WasmModel {
  predict(text: string | Uint8Array, k: number, threshold: number): { size(): number; get(i: number): [number, string]; delete(): void };
}
let wasm: WasmModel;
let model: FastTextModel;
function oracle(text: string | Uint8Array, k = 1, threshold = 0): Array<{ label: string; probability: number }> {
  const v = wasm.predict(text, k, threshold);
  try {
    return Array.from({ length: v.size() }, (_, i) => ({ label: v.get(i)[1], probability: v.get(i)[0] }));
  } finally {
    v.delete();
  }
}

beforeAll(async () => {
  wasm = await (getLIDModel as () => Promise<{ load(): Promise<WasmModel> }>)().then((m) => m.load());
  model = FastTextModel.load(LANGUAGE_MODEL_FILE);
});

/** A small deterministic generator (mulberry32), so the snippets are the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Real documents of the shared corpora, by source: Wikipedia in four languages, books, Common Crawl pages. */
async function documents(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const add = (source: string, text: string) => {
    if (text.length > 0) out.set(source, [...(out.get(source) ?? []), text]);
  };
  const quiet = { onError: () => undefined };
  const [enwiki] = await planWikipedia(corpus('wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2'), { targetBytes: 300_000 });
  for await (const d of readWikipedia(enwiki!, quiet)) add('wiki-en', d.text);
  for (const [source, file] of [
    ['wiki-bg', 'wikipedia/gensim/bgwiki-latest-pages-articles-shortened.xml.bz2'],
    ['wiki-vi', 'wikipedia/wikiextractor-viwiki/test.xml'],
    ['wiki-ltg', 'wikipedia/dumpster-dive/smallwiki-latest-pages-articles.xml'],
  ] as const) {
    for await (const d of readWikipedia(corpus(file), quiet)) add(source, d.text);
  }
  for (const f of ['books/gutenberg/markovify/sherlock.txt', 'books/gutenberg/sentencepiece/botchan.txt', 'books/gutenberg/ebookmaker/69030-0.txt', 'books/aozora/sentencepiece/wagahaiwa_nekodearu.txt']) {
    const text = parseTextBook(readFileSync(corpus(f)), corpus(f), f).text;
    // Books as paragraphs-sized passages, so every part of them is sampled.
    for (let i = 0; i < text.length; i += 4000) add(`book-${path.basename(f)}`, text.slice(i, i + 4000));
  }
  for (const f of [
    'commoncrawl/cc/resiliparse/warcfile.warc.gz',
    'commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz',
    'commoncrawl/cc/eugeneware-warc/CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc.wet',
    'commoncrawl/non-cc/dolma/sample-0000.warc.gz',
  ]) {
    for await (const d of readCommonCrawl(corpus(f), quiet)) add('commoncrawl', d.text);
  }
  return out;
}

/**
 * Snippets of varied length cut from the documents (one character, a few words, a random slice that may split a
 * surrogate pair, the first 1000 characters, whole short documents), plus edge cases: empty and space-only strings,
 * emoji, mixed scripts, lone surrogates, every separator fastText knows, labels and `</s>` in the text.
 */
function snippets(docs: Map<string, string[]>, perSource: number): string[] {
  const random = rng(176);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  // The most rows per byte (one-letter words) and one long word (Japanese has no spaces), for the buffers' bounds.
  const letters = Array.from({ length: 1500 }, (_, i) => 'abcdefghijklmnopqrstuvwxyzäöü'[i % 29]).join(' ');
  const out: string[] = [letters, letters.replaceAll(' ', ''), '吾輩'.repeat(1000), '', ' ', '   \t  ', '\n', '\r\n', '\0', '\u2028', 'a', '😀', '😀😀 🎉', '\ud83d', '\ude00', 'x\ud800y', '</s>', 'a </s> b', '__label__en', '__label__de Haus', '__label__xx hello'];
  for (const [, texts] of docs) {
    for (let i = 0; i < perSource; i++) {
      const text = pick(texts);
      const at = Math.floor(random() * text.length);
      const cp = String.fromCodePoint(text.codePointAt(at)!);
      const words = text.slice(at).split(/\s+/).slice(1, 2 + Math.floor(random() * 6)).join(' ');
      const length = Math.floor(Math.exp(random() * Math.log(5000)));
      out.push(cp, words, text.slice(at, at + length), text.slice(0, 1000));
      if (text.length < 3000) out.push(text);
      if (i % 8 === 0) {
        // Mixed scripts, lone surrogates, and separators of every kind inside real text.
        const other = pick(pick([...docs.values()]));
        out.push(`${words} ${other.slice(0, 200)}`);
        out.push(`${text.slice(at, at + 50)}\ud800${text.slice(at + 50, at + 100)}\udfff`);
        out.push(`${words}\n${text.slice(0, 100)}`, `${words}\v${cp}\f${words}\r\u2029${cp}\t\0${words}`, `${words} 🙂🙃 ${cp}${cp}`);
      }
    }
  }
  return out;
}

describe('fastText in TypeScript', () => {
  it('reads lid.176.ftz: 176 labels, 7235 words, 16 dimensions, hierarchical softmax', () => {
    expect(model.args).toMatchObject({ dim: 16, wordNgrams: 1, loss: 1, model: 3, bucket: 2_000_000, minn: 2, maxn: 4 });
    expect(model.nwords).toBe(7235);
    expect(model.labels).toHaveLength(176);
    expect(model.labels.slice(0, 3)).toEqual(['__label__en', '__label__ru', '__label__de']);
  });

  it('predicts the same labels and probabilities as the WebAssembly build on thousands of real snippets', { timeout: 60_000 }, async () => {
    const docs = await documents();
    expect([...docs.keys()].sort()).toEqual(
      ['book-69030-0.txt', 'book-botchan.txt', 'book-sherlock.txt', 'book-wagahaiwa_nekodearu.txt', 'commoncrawl', 'wiki-bg', 'wiki-en', 'wiki-ltg', 'wiki-vi'].sort(),
    );
    const inputs = snippets(docs, 100);
    expect(inputs.length).toBeGreaterThan(4000);
    let compared = 0;
    let exact = 0;
    let worst = 0;
    const mismatches: string[] = [];
    const languages = new Set<string>();
    for (const [i, text] of inputs.entries()) {
      // The top label for every snippet; the top 5 with a threshold for every tenth (the search prunes differently).
      const [k, threshold] = i % 10 === 0 ? [5, 0.01] : [1, 0];
      const want = oracle(text, k, threshold);
      const got = model.predict(text, k, threshold);
      if (got.map((p) => p.label).join() !== want.map((p) => p.label).join()) mismatches.push(JSON.stringify(text.slice(0, 80)));
      for (const [j, p] of want.entries()) {
        const d = Math.abs(p.probability - (got[j]?.probability ?? NaN));
        worst = Math.max(worst, d);
        compared++;
        if (d === 0) exact++;
      }
      if (want[0]) languages.add(want[0].label);
      // lid.ts's path: the first 1000 characters, line breaks as spaces (whole documents, not their first line).
      const lid = oracle(text.slice(0, 1000).replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' '))[0]!;
      const top = model.topLabel(text, 1000);
      if (model.labels[top] !== lid.label) mismatches.push(`lid ${JSON.stringify(text.slice(0, 80))}`);
      worst = Math.max(worst, Math.abs(model.topProbability - lid.probability));
      compared++;
      if (model.topProbability === lid.probability) exact++;
    }
    expect(mismatches).toEqual([]);
    // Tolerance 1e-6 absolute. Both sides compute in float32 in the same order, so they can only differ through
    // libm (V8's exp and log against Emscripten's musl), by a few float32 ulps. Measured on 4423 snippets: 9808 of
    // 9809 probabilities bit-identical, one 1 ulp (6e-8) apart; 59 different top languages.
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(compared).toBeGreaterThan(inputs.length);
    expect(exact / compared).toBeGreaterThan(0.99);
    expect(languages.size).toBeGreaterThan(10);
  });

  it('reads one line as fastText does: the end-of-sentence token, separators, labels and `</s>` in the text', () => {
    // The WebAssembly binding (like the Python one) appends a newline, so even an empty line has a word: `</s>`.
    const empty = oracle('');
    expect(empty[0]!.label).toBe('__label__en');
    for (const text of ['', ' ', '\n', '\t\v\f\r \0']) expect(model.predict(text, 3)).toEqual(oracle(text, 3));
    // A newline ends the line; so does a literal `</s>` word; `\0` separates words.
    expect(model.predict('Guten Morgen\nthe quick brown fox', 3)).toEqual(model.predict('Guten Morgen', 3));
    expect(model.predict('Guten Morgen </s> the quick brown fox', 3)).toEqual(model.predict('Guten Morgen', 3));
    expect(model.predict('Guten\0Morgen', 3)).toEqual(model.predict('Guten Morgen', 3));
    // Labels in the text are not words.
    expect(model.predict('__label__fr Guten Morgen __label__zz', 3)).toEqual(model.predict('Guten Morgen', 3));
    // Bytes as they are, invalid UTF-8 included.
    const bytes = new Uint8Array([0x47, 0x75, 0x74, 0x65, 0x6e, 0x20, 0xff, 0xc3, 0x20, 0xe2, 0x82, 0x20, 0x4d, 0x6f, 0x72, 0x67, 0x65, 0x6e]);
    expect(model.predictBytes(bytes, 3)).toEqual(oracle(bytes, 3));
    expect(() => model.predict('x', 0)).toThrow(RangeError);
  });

  it('topLabel reads line breaks as spaces and stops at maxChars, as lid.ts fed the WebAssembly build', () => {
    const lid = (text: string, maxChars: number) => oracle(text.slice(0, maxChars).replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' '))[0]!;
    const texts = ['Guten Morgen\nthe quick brown fox\r\njumps', 'Съешь же ещё\u2028этих мягких\u2029французских булок', 'emoji 😀 cut 😀😀', 'lone \ud800\nsurrogate \udc00\r\n\r\nhere\ud800'];
    for (const text of texts) {
      for (const maxChars of [1, 5, 8, 13, 14, 15, 16, 1000]) {
        const want = lid(text, maxChars);
        expect(model.labels[model.topLabel(text, maxChars)], `${JSON.stringify(text)} ${maxChars}`).toBe(want.label);
        expect(model.topProbability).toBe(want.probability);
      }
    }
  });
});

/** Bytes of a fastText model file, written field by field (little-endian, as fastText writes them). */
class ModelWriter {
  private readonly parts: Buffer[] = [];
  i32(...xs: number[]): this {
    for (const x of xs) this.parts.push(Buffer.from(new Int32Array([x]).buffer));
    return this;
  }
  i64(x: number): this {
    this.parts.push(Buffer.from(new BigInt64Array([BigInt(x)]).buffer));
    return this;
  }
  f64(x: number): this {
    this.parts.push(Buffer.from(new Float64Array([x]).buffer));
    return this;
  }
  f32s(xs: Float32Array): this {
    this.parts.push(Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength));
    return this;
  }
  u8s(...xs: number[]): this {
    this.parts.push(Buffer.from(xs));
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

interface SyntheticModel {
  dim: number;
  minn: number;
  maxn: number;
  bucket: number;
  /** Fraction of the n-gram buckets kept (a pruned, quantized model), or null: every bucket has a row. */
  kept: number | null;
  /** Product quantization of the input (and with `qout` the output): part size and whether norms are quantized. */
  quantized: { dsub: number; qnorm: boolean; qout: boolean } | null;
}

/**
 * A supervised hierarchical-softmax model with random weights, in the layouts lid.176.ftz does not use (dense or
 * unpruned input, quantized output, norms on the output, a shorter last quantizer part, one-character n-grams):
 * the vocabulary is the 400 most frequent words of a book, the labels have Huffman-unbalanced and tied counts.
 */
function syntheticModel(spec: SyntheticModel, seed: number): Buffer {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const floats = (n: number, scale: number) => Float32Array.from({ length: n }, () => gauss() * scale);
  const text = parseTextBook(readFileSync(corpus('books/gutenberg/markovify/sherlock.txt')), 'sherlock.txt', 'sherlock.txt').text;
  const counts = new Map<string, number>();
  for (const w of text.split(/[ \n\r\t\v\f\0]+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = ['</s>', ...[...counts].sort((a, b) => b[1] - a[1]).slice(0, 399).map(([w]) => w)];
  const labelCounts = [900, 700, 700, 400, 250, 250, 250, 90, 40, 40, 12];
  const { dim, bucket } = spec;
  const w = new ModelWriter().i32(793712314, 12);
  w.i32(dim, 5, 5, 1, 5, 1, 1, 3, bucket, spec.minn, spec.maxn, 100).f64(1e-4);
  const keptBuckets: number[] = [];
  if (spec.kept !== null) for (let b = 0; b < bucket; b++) if (random() < spec.kept) keptBuckets.push(b);
  w.i32(words.length + labelCounts.length, words.length, labelCounts.length).i64(1_000_000).i64(spec.kept === null ? -1 : keptBuckets.length);
  for (const [i, word] of words.entries()) w.u8s(...Buffer.from(word), 0).i64(10_000 - i).u8s(0);
  for (const [i, c] of labelCounts.entries()) w.u8s(...Buffer.from(`__label__l${i}`), 0).i64(c).u8s(1);
  // Kept buckets point at shuffled rows, as pruning leaves them.
  const order = keptBuckets.map((_, i) => i).sort(() => random() - 0.5);
  for (const [i, b] of keptBuckets.entries()) w.i32(b, order[i]!);
  const inputRows = words.length + (spec.kept === null ? bucket : keptBuckets.length);
  const matrix = (rows: number, quantized: boolean) => {
    if (!quantized || !spec.quantized) {
      w.i64(rows).i64(dim).f32s(floats(rows * dim, 0.4));
      return;
    }
    const { dsub, qnorm } = spec.quantized;
    const nsubq = Math.ceil(dim / dsub);
    w.u8s(qnorm ? 1 : 0).i64(rows).i64(dim).i32(rows * nsubq);
    w.u8s(...Array.from({ length: rows * nsubq }, () => Math.floor(random() * 256)));
    w.i32(dim, nsubq, dsub, dim % dsub || dsub).f32s(floats(dim * 256, 0.4));
    if (qnorm) w.u8s(...Array.from({ length: rows }, () => Math.floor(random() * 256))).i32(1, 1, 1, 1).f32s(Float32Array.from({ length: 256 }, () => 0.5 + random()));
  };
  w.u8s(spec.quantized ? 1 : 0);
  matrix(inputRows, true);
  w.u8s(spec.quantized?.qout ? 1 : 0);
  matrix(labelCounts.length, spec.quantized?.qout ?? false);
  return w.bytes();
}

describe('fastText model layouts lid.176 does not use', () => {
  const specs: Array<[string, SyntheticModel]> = [
    ['dense input, every bucket, one-character n-grams', { dim: 10, minn: 1, maxn: 3, bucket: 5000, kept: null, quantized: null }],
    ['pruned, quantized input and output with norms, a short last part', { dim: 10, minn: 2, maxn: 4, bucket: 20_000, kept: 0.3, quantized: { dsub: 4, qnorm: true, qout: true } }],
    ['quantized without norms, every bucket, dense output', { dim: 8, minn: 3, maxn: 6, bucket: 3000, kept: null, quantized: { dsub: 2, qnorm: false, qout: false } }],
  ];
  it.each(specs)('%s: same predictions as the WebAssembly build', async (_, spec) => {
    const file = path.join(await tempDir(), 'synthetic.bin');
    await writeFile(file, syntheticModel(spec, spec.bucket));
    const other = await (getLIDModel as (o: { modelPath: string }) => Promise<{ load(): Promise<WasmModel> }>)({ modelPath: pathToFileURL(file).href }).then((m) => m.load());
    const ours = FastTextModel.load(file);
    const texts = ['', 'a', 'the', 'Holmes and Watson', 'naïve café über straße', '吾輩は猫である', '😀 x\ud800y'];
    const book = parseTextBook(readFileSync(corpus('books/gutenberg/sentencepiece/botchan.txt')), 'botchan.txt', 'botchan.txt').text;
    for (let i = 0; i < 200; i++) texts.push(book.slice(i * 997, i * 997 + 1 + ((i * 37) % 400)));
    const answers = new Set<string>();
    for (const [i, text] of texts.entries()) {
      const [k, threshold] = i % 3 === 0 ? [3, 0] : i % 3 === 1 ? [11, 0.05] : [1, 0];
      const v = other.predict(text, k, threshold);
      const want = Array.from({ length: v.size() }, (_, j) => ({ label: v.get(j)[1], probability: v.get(j)[0] }));
      v.delete();
      const got = ours.predict(text, k, threshold);
      expect(got.map((p) => p.label), JSON.stringify(text)).toEqual(want.map((p) => p.label));
      for (const [j, p] of want.entries()) expect(Math.abs(got[j]!.probability - p.probability)).toBeLessThanOrEqual(1e-6);
      answers.add(JSON.stringify(want));
    }
    // The answers vary (the comparison is not of one constant answer).
    expect(answers.size).toBeGreaterThan(150);
  });
});

describe('fastText model file errors', () => {
  const bytes = () => readFileSync(LANGUAGE_MODEL_FILE);
  const fails = async (data: Uint8Array, pattern: RegExp): Promise<MalformedInputError> => {
    const file = path.join(await tempDir(), 'model.ftz');
    await writeFile(file, data);
    let error: unknown;
    try {
      FastTextModel.load(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedInputError);
    const e = error as MalformedInputError;
    expect(e.file).toBe(file);
    expect(e.message).toMatch(pattern);
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(e.message).not.toContain('\n');
    return e;
  };

  it('a file that is not a fastText model', async () => {
    const e = await fails(readFileSync(corpus('books/gutenberg/sentencepiece/botchan.txt')), /not a fastText model/);
    expect(e.position).toBe(0);
    await fails(new Uint8Array(0), /not a fastText model/);
  });

  it('a truncated model, wherever it is cut', async () => {
    const full = bytes();
    // In the arguments, the dictionary, the pruned buckets, the input codes, centroids, norms, the output matrix.
    for (const cut of [10, 60, 100, 200_000, 500_000, 600_000, 900_000, 935_000, full.length - 1]) {
      const e = await fails(full.subarray(0, cut), /truncated fastText model|no terminating NUL/);
      expect(e.position).toBeLessThanOrEqual(cut);
    }
    await fails(Buffer.concat([full, Buffer.from([0])]), /1 unexpected bytes after the output matrix/);
  });

  it('a model this reader does not implement, named in the message', async () => {
    const softmax = Buffer.from(bytes());
    softmax.writeInt32LE(3, 8 + 24); // loss
    await fails(softmax, /unsupported fastText loss: softmax/);
    const skipgram = Buffer.from(bytes());
    skipgram.writeInt32LE(2, 8 + 28); // model
    await fails(skipgram, /unsupported fastText model: skipgram/);
    const bigrams = Buffer.from(bytes());
    bigrams.writeInt32LE(2, 8 + 20); // wordNgrams
    await fails(bigrams, /wordNgrams 2/);
    const version = Buffer.from(bytes());
    version.writeInt32LE(13, 4);
    await fails(version, /version 13 is not supported/);
  });
});

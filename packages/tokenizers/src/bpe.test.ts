import { readFileSync } from 'node:fs';
import { Rng } from '@pretext/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { books, corpora, GPT2_JSON } from '../test/corpora.js';
import { fuzzText } from '../test/fuzz.js';
import { firstDiff, HfTokenizer, hfIds, hfOffsets } from '../test/oracle.js';
import { loadTokenizer, GPT2_PATTERN, Spans, splitGpt2, regexPreTokenizer, type Tokenizer } from './index.js';

let gpt2: Tokenizer;
let hf: HfTokenizer;
beforeAll(async () => {
  gpt2 = await loadTokenizer(GPT2_JSON());
  hf = HfTokenizer.fromFile(GPT2_JSON());
});

describe('GPT-2 byte-level BPE (loaded from tokenizer.json)', () => {
  it('reproduces the llama.cpp GPT-2 test vectors', () => {
    const inputs = readFileSync(corpora('tokenizers/test-vectors/llama.cpp/ggml-vocab-gpt-2.gguf.inp'), 'utf8').split('\n__ggml_vocab_test__\n');
    inputs.pop();
    const expected = readFileSync(corpora('tokenizers/test-vectors/llama.cpp/ggml-vocab-gpt-2.gguf.out'), 'utf8').split('\n');
    expect(inputs.length).toBe(46);
    inputs.forEach((text, i) => {
      const want = expected[i]!.trim() === '' ? [] : expected[i]!.trim().split(' ').map(Number);
      expect(Array.from(gpt2.encode(text)), JSON.stringify(text)).toEqual(want);
    });
  });

  it('reproduces the swift-transformers distilgpt2 vectors, ids and decoding', async () => {
    const all = JSON.parse(readFileSync(corpora('tokenizers/test-vectors/swift-transformers/tokenizer_tests.json'), 'utf8'));
    const cases = all.distilgpt2 as { input: string; encoded: { input_ids: number[] }; decoded_with_special: string }[];
    expect(cases.length).toBe(18);
    for (const c of cases) {
      expect(Array.from(gpt2.encode(c.input)), c.input).toEqual(c.encoded.input_ids);
      // byte-level BPE is lossless (the vectors' decoded strings went through transformers' extra space cleanup)
      expect(gpt2.decode(c.encoded.input_ids)).toBe(c.input);
      expect(gpt2.decode(c.encoded.input_ids)).toBe(await hf.decode(c.encoded.input_ids, false));
    }
    const v = JSON.parse(readFileSync(corpora('tokenizers/test-vectors/swift-transformers/gpt2_encoded_tokens.json'), 'utf8'));
    expect(Array.from(gpt2.encode(v.decoded_text ?? v.text))).toEqual(v.token_ids);
    expect(v.bpe_tokens).toEqual(Array.from(gpt2.encode(v.decoded_text ?? v.text), (id) => gpt2.idToToken(id)));
  });

  it('gives the same ids, offsets and decoding as Hugging Face on the real books (English and Japanese)', async () => {
    for (const { name, text } of books()) {
      const ours = gpt2.encode(text);
      const theirs = await hfIds(hf, text);
      expect(firstDiff(ours, theirs), name).toBe('equal');
      expect(gpt2.decode(ours), name).toBe(text);
      // offsets on a slice (the oracle's offsets are slow to collect for a whole book)
      const part = text.slice(20_000, 40_000);
      const mine = gpt2.encodeWithOffsets(part);
      const ref = await hfOffsets(hf, part);
      expect(Array.from(mine.ids)).toEqual(ref.ids);
      expect(Array.from(mine.starts), name).toEqual(ref.starts);
      expect(Array.from(mine.ends), name).toEqual(ref.ends);
    }
  });

  it('matches Hugging Face on random text built from edge cases (whitespace kinds, contractions, emoji, marks)', async () => {
    const rng = new Rng(20240601);
    for (let i = 0; i < 300; i++) {
      const text = fuzzText(rng, 1 + rng.int(40));
      const ref = await hfOffsets(hf, text);
      const mine = gpt2.encodeWithOffsets(text);
      expect(Array.from(mine.ids), JSON.stringify(text)).toEqual(ref.ids);
      expect(Array.from(mine.starts), JSON.stringify(text)).toEqual(ref.starts);
      expect(Array.from(mine.ends), JSON.stringify(text)).toEqual(ref.ends);
      expect(gpt2.decode(mine.ids)).toBe(await hf.decode(ref.ids, false));
    }
  });

  it('marks word starts: the first token of every pre-token', () => {
    const e = gpt2.encodeWithOffsets('Tokenization is unbelievably fun');
    const words = Array.from(e.ids, (id, i) => (e.wordStarts[i] ? '|' : '') + gpt2.idToToken(id)).join('');
    expect(words).toBe('|Token' + 'ization' + '|Ġis' + '|Ġunbelievably'.replace('Ġunbelievably', gpt2.encode(' unbelievably').length === 1 ? 'Ġunbelievably' : Array.from(gpt2.encode(' unbelievably'), (id) => gpt2.idToToken(id)).join('')) + '|Ġfun');
    expect(e.wordStarts.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('recognises <|endoftext|> as Hugging Face does (single word, strips neighbouring spaces)', async () => {
    for (const text of ['a<|endoftext|>b', 'hello <|endoftext|> world', '<|endoftext|>', ' <|endoftext|><|endoftext|> x', 'x\n<|endoftext|>\n\ny']) {
      expect(Array.from(gpt2.encode(text)), text).toEqual(await hfIds(hf, text));
    }
    expect(gpt2.special.eos).toBe(50256);
    expect(gpt2.special.pad).toBe(50256);
    expect(gpt2.isSpecial(50256)).toBe(true);
    expect(gpt2.decode(gpt2.encode('one.\n<|endoftext|>\nTwo'), { skipSpecialTokens: true })).toBe('one.Two');
    expect(gpt2.decode(gpt2.encode('one.\n<|endoftext|>\nTwo'))).toBe('one.<|endoftext|>Two');
  });

  it('encodes a 120k-character word as Hugging Face, and a single 10 MB document losslessly in bounded memory', async () => {
    const long = 'ab'.repeat(50_000) + '!'.repeat(20_000);
    expect(firstDiff(gpt2.encode(long), await hfIds(hf, long))).toBe('equal');
    const book = books()[1]!.text;
    let doc = long;
    while (doc.length < 10_000_000) doc += book;
    const before = process.memoryUsage().heapUsed;
    const ids = gpt2.encode(doc);
    const grown = process.memoryUsage().heapUsed - before;
    expect(ids.length).toBeGreaterThan(2_000_000);
    // ids (4 bytes each) and pre-token spans dominate; far below the 10 MB string's 20 MB × 10
    expect(grown).toBeLessThan(200 * 1024 * 1024);
    expect(gpt2.decode(ids) === doc).toBe(true);
  });

  it('the hand-written GPT-2 scanner splits exactly as the GPT-2 regex', () => {
    const viaRegex = regexPreTokenizer(GPT2_PATTERN);
    const rng = new Rng(7);
    const texts = [...books().map((b) => b.text), ...Array.from({ length: 500 }, () => fuzzText(rng, 30))];
    for (const text of texts) {
      const a = new Spans();
      const b = new Spans();
      splitGpt2(text, 0, text.length, a);
      viaRegex(text, 0, text.length, b);
      expect(a.length).toBe(b.length);
      expect(Buffer.from(a.data.buffer, 0, a.length * 4).equals(Buffer.from(b.data.buffer, 0, b.length * 4))).toBe(true);
    }
  });
});

import { readFileSync } from 'node:fs';
import { Rng } from '@pretext/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BERT_JSON, books, corpora, englishTexts, wikipedia } from '../test/corpora.js';
import { fuzzText } from '../test/fuzz.js';
import { firstDiff, HfTokenizer, hfIds, hfOffsets, oracleOf } from '../test/oracle.js';
import { loadTokenizer, trainWordPiece, WordPieceTokenizer, type Tokenizer } from './index.js';

let bert: Tokenizer;
let hf: HfTokenizer;
beforeAll(async () => {
  bert = await loadTokenizer(BERT_JSON());
  hf = HfTokenizer.fromFile(BERT_JSON());
});

describe('BERT WordPiece (bert-base-uncased)', () => {
  it('reproduces the llama.cpp bert-bge vectors from tokenizer.json and from vocab.txt', async () => {
    const fromTxt = await loadTokenizer(corpora('tokenizers/bert-base-uncased/vocab.txt'));
    const inputs = readFileSync(corpora('tokenizers/test-vectors/llama.cpp/ggml-vocab-bert-bge.gguf.inp'), 'utf8').split('\n__ggml_vocab_test__\n');
    inputs.pop();
    const expected = readFileSync(corpora('tokenizers/test-vectors/llama.cpp/ggml-vocab-bert-bge.gguf.out'), 'utf8').split('\n');
    expect(inputs.length).toBe(46);
    inputs.forEach((text, i) => {
      const want = expected[i]!.trim() === '' ? [] : expected[i]!.trim().split(' ').map(Number);
      expect(Array.from(bert.encode(text)), JSON.stringify(text)).toEqual(want);
      expect(Array.from(fromTxt.encode(text)), JSON.stringify(text)).toEqual(want);
    });
  });

  it('reproduces the swift-transformers bert-base-uncased vectors with [CLS]/[SEP] and type ids', async () => {
    const all = JSON.parse(readFileSync(corpora('tokenizers/test-vectors/swift-transformers/tokenizer_tests.json'), 'utf8'));
    const cases = [...all['bert-base-uncased'], ...all['google-bert/bert-base-uncased']] as {
      input: string;
      encoded: { input_ids: number[]; token_type_ids: number[] };
      decoded_without_special: string;
    }[];
    expect(cases.length).toBeGreaterThanOrEqual(18);
    for (const c of cases) {
      const e = bert.encodePair(c.input);
      expect(Array.from(e.ids), c.input).toEqual(c.encoded.input_ids);
      expect(Array.from(e.typeIds)).toEqual(c.encoded.token_type_ids);
      expect(bert.decode(e.ids, { skipSpecialTokens: true })).toBe(await hf.decode(c.encoded.input_ids, true));
    }
    const v = JSON.parse(readFileSync(corpora('tokenizers/test-vectors/swift-transformers/bert_uncased_encoded.json'), 'utf8'));
    expect(Array.from(bert.encodePair(v.text).ids)).toEqual(v.token_ids);
  });

  it('encodes pairs as [CLS] A [SEP] B [SEP] with type ids, as Hugging Face', async () => {
    for (const [a, b] of [
      ['Hello there', 'General Kenobi'],
      ['The cat sat.', ''],
      ['Ünïcödé façade', '東京 is big!'],
    ] as const) {
      const ref = await hf.encode(a, b);
      const e = bert.encodePair(a, b);
      expect(Array.from(e.ids)).toEqual(ref.getIds());
      expect(Array.from(e.typeIds)).toEqual(ref.getTypeIds());
      expect(Array.from(e.specialTokensMask)).toEqual(ref.getSpecialTokensMask());
    }
  });

  it('gives Hugging Face ids and offsets on books, Wikipedia wikitext and the Japanese novel', async () => {
    for (const { name, text } of [...books(), ...wikipedia()]) {
      const part = text.length > 400_000 ? text.slice(0, 400_000) : text;
      expect(firstDiff(bert.encode(part), await hfIds(hf, part)), name).toBe('equal');
      const slice = text.slice(10_000, 30_000);
      const mine = bert.encodeWithOffsets(slice);
      const ref = await hfOffsets(hf, slice);
      expect(Array.from(mine.ids)).toEqual(ref.ids);
      expect(Array.from(mine.starts), name).toEqual(ref.starts);
      expect(Array.from(mine.ends), name).toEqual(ref.ends);
    }
  });

  it('matches Hugging Face on random edge-case text (controls, accents, CJK, special tokens in text)', async () => {
    const rng = new Rng(99);
    const extra = ['[CLS]', '[cls]', '[PAD]', ' [pad] ', '[MASK]', 'Ǆ', 'ﬁ', '\u0000', '\ufffd', '\u00ad', 'Å', 'ﬀoo', '𠀀', '丁'];
    for (let i = 0; i < 300; i++) {
      let text = fuzzText(rng, 1 + rng.int(30));
      if (rng.bernoulli(0.5)) text += extra[rng.int(extra.length)]! + fuzzText(rng, 5);
      const ref = await hfOffsets(hf, text);
      const mine = bert.encodeWithOffsets(text);
      expect(Array.from(mine.ids), JSON.stringify(text)).toEqual(ref.ids);
      expect(Array.from(mine.starts), JSON.stringify(text)).toEqual(ref.starts);
      expect(Array.from(mine.ends), JSON.stringify(text)).toEqual(ref.ends);
    }
  });

  it('decodes as Hugging Face (## joined, spaces before punctuation cleaned)', async () => {
    const text = books()[2]!.text.slice(5000, 9000);
    const ids = bert.encodePair(text).ids;
    expect(bert.decode(ids, { skipSpecialTokens: true })).toBe(await hf.decode(Array.from(ids), true));
    expect(bert.decode(ids)).toBe(await hf.decode(Array.from(ids), false));
  });

  it('encodes a single 10 MB document with offsets in bounded memory', () => {
    const book = books()[1]!.text;
    let doc = '';
    while (doc.length < 10_000_000) doc += book;
    const before = process.memoryUsage().heapUsed;
    const e = bert.encodeWithOffsets(doc);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(400 * 1024 * 1024);
    const once = bert.encode(book).length;
    expect(e.ids.length).toBeGreaterThanOrEqual(once * Math.floor(doc.length / book.length));
    let ok = true;
    for (let i = 1; i < e.starts.length; i++) if (e.starts[i]! < e.starts[i - 1]! || e.ends[i]! > doc.length) ok = false;
    expect(ok).toBe(true);
  });

  it('turns over-long words into [UNK] and marks word starts on non-## pieces', () => {
    expect(Array.from(bert.encode('a'.repeat(101)))).toEqual([100]);
    const e = bert.encodeWithOffsets('unaffable tokenization');
    const pieces = Array.from(e.ids, (id, i) => (e.wordStarts[i] ? '|' : '') + bert.idToToken(id));
    for (const p of pieces) expect(p.startsWith('|')).toBe(!p.includes('##'));
    expect(bert.special).toEqual({ pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 });
  });
});

describe('trainWordPiece', () => {
  it('trains a vocabulary that Hugging Face loads and encodes identically', async () => {
    const tok = await trainWordPiece(englishTexts(40), { vocabSize: 2000 });
    expect(tok).toBeInstanceOf(WordPieceTokenizer);
    expect(tok.vocabSize).toBe(2000);
    expect(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => tok.tokenToId(t))).toEqual([0, 1, 2, 3, 4]);
    expect(tok.special).toEqual({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
    expect(tok.tokenToId('##s')).toBeDefined();
    const hf2 = oracleOf(tok);
    for (const { name, text } of [...books(), ...wikipedia()]) {
      const part = text.slice(0, 200_000);
      expect(firstDiff(tok.encode(part), await hfIds(hf2, part)), name).toBe('equal');
    }
    const pair = tok.encodePair('First sentence.', 'Second one.');
    const ref = await hf2.encode('First sentence.', 'Second one.');
    expect(Array.from(pair.ids)).toEqual(ref.getIds());
    expect(Array.from(pair.typeIds)).toEqual(ref.getTypeIds());
    // English words mostly become whole tokens: far fewer tokens than characters
    const s = books()[1]!.text.slice(0, 100_000);
    expect(tok.encode(s).length).toBeLessThan(s.length / 3);
  });
});

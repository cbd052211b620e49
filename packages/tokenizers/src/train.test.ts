import { ConfigError, Rng } from '@pretext/core';
import { describe, expect, it } from 'vitest';
import { books, englishTexts } from '../test/corpora.js';
import { firstDiff, hfIds, oracleOf } from '../test/oracle.js';
import { fuzzText } from '../test/fuzz.js';
import { trainBpe, tokenizerFromJSON, BpeTokenizer } from './index.js';

describe('trainBpe', () => {
  it('merges the most frequent pair first, counting each pre-token by its frequency', async () => {
    // pre-tokens: "ab" ×1, " ab" ×2, " cd" ×1 → (a,b)=3, then (Ġ,ab)=2
    const tok = await trainBpe(['ab ab ab cd'], { vocabSize: 259, minFrequency: 2, specialTokens: ['<|endoftext|>'] });
    expect(tok.getMerges()).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    expect(tok.vocabSize).toBe(259);
    expect(Array.from(tok.encode(' ab'), (id) => tok.idToToken(id))).toEqual(['Ġab']);
    // minFrequency: (Ġ,c) and (c,d) occur once, so no third merge even with room for it
    const more = await trainBpe(['ab ab ab cd'], { vocabSize: 300 });
    expect(more.getMerges().length).toBe(2);
    const all = await trainBpe(['ab ab ab cd'], { vocabSize: 300, minFrequency: 1 });
    expect(all.getMerges()).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
      ['c', 'd'], // tie at count 1: the pair with the smaller ids wins ('c' < 'Ġ')
      ['Ġ', 'cd'],
    ]);
  });

  it('handles repeated symbols (aaaa) with overlapping pairs as Hugging Face counts them', async () => {
    const tok = await trainBpe(['aaaa aaaa aaaa'], { vocabSize: 262, minFrequency: 1 });
    const hf = oracleOf(tok);
    for (const s of ['aaaa', ' aaaa', 'aaaaaaa', ' aa a']) expect(Array.from(tok.encode(s)), s).toEqual(await hfIds(hf, s));
    expect(tok.getMerges()[0]).toEqual(['a', 'a']);
  });

  it('trains on 2 MB of English into a tokenizer that Hugging Face loads and that gives its ids on the books', async () => {
    const texts = englishTexts(60);
    const phases = new Set<string>();
    let lastMerge = 0;
    const tok = await trainBpe(texts, {
      vocabSize: 3000,
      onProgress: (p) => {
        phases.add(p.phase);
        if (p.phase === 'merge') lastMerge = p.done;
      },
    });
    expect(phases).toEqual(new Set(['count', 'merge']));
    expect(tok.vocabSize).toBe(3000);
    expect(lastMerge).toBe(3000 - 257);
    expect(tok.special).toEqual({ pad: 0, eos: 0 });
    expect(tok.idToToken(0)).toBe('<|endoftext|>');
    const hf = oracleOf(tok);
    expect(hf.getVocabSize(true)).toBe(3000);
    for (const { name, text } of books()) expect(firstDiff(tok.encode(text), await hfIds(hf, text)), name).toBe('equal');
    const rng = new Rng(3);
    for (let i = 0; i < 100; i++) {
      const s = fuzzText(rng, 20);
      expect(Array.from(tok.encode(s)), JSON.stringify(s)).toEqual(await hfIds(hf, s));
    }
    // compression: fewer tokens than bytes by a wide margin on English
    const sherlock = books()[1]!.text;
    expect(tok.encode(sherlock).length).toBeLessThan(Buffer.byteLength(sherlock) / 2.5);
  });

  it('trains with the cl100k pattern, saved as a Split pre-tokenizer Hugging Face runs identically', async () => {
    const tok = await trainBpe(englishTexts(30), { vocabSize: 1500, pattern: 'cl100k', specialTokens: ['<|endoftext|>', '<pad>'] });
    expect(tok.special.pad).toBe(1);
    expect(tok.special.eos).toBe(0);
    const hf = oracleOf(tok);
    for (const { name, text } of books()) expect(firstDiff(tok.encode(text), await hfIds(hf, text)), name).toBe('equal');
    const rng = new Rng(11);
    for (let i = 0; i < 200; i++) {
      const s = fuzzText(rng, 25) + " DON'T 12345 I'M";
      expect(Array.from(tok.encode(s)), JSON.stringify(s)).toEqual(await hfIds(hf, s));
    }
  });

  it('is deterministic and round-trips through tokenizer.json', async () => {
    const texts = englishTexts(10);
    const a = await trainBpe(texts, { vocabSize: 800 });
    const b = await trainBpe(
      (async function* () {
        yield* texts;
      })(),
      { vocabSize: 800 },
    );
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    const c = tokenizerFromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(c).toBeInstanceOf(BpeTokenizer);
    expect(JSON.stringify(c.toJSON())).toBe(JSON.stringify(a.toJSON()));
  });

  it('refuses bad options with ConfigError', async () => {
    await expect(trainBpe(['x'], { vocabSize: 100 })).rejects.toThrow(ConfigError);
    await expect(trainBpe(['x'], { vocabSize: 1000, minFrequency: 0 })).rejects.toThrow(/minFrequency=0/);
    await expect(trainBpe(['x'], { vocabSize: 1000, specialTokens: ['a', 'a'] })).rejects.toThrow(ConfigError);
  });
});

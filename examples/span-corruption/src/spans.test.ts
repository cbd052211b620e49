import { IGNORE_INDEX, Rng, type DataContext } from '@pretext/core';
import { loadFixtureCorpus, streamDocuments, take } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { spanCorruption } from './index.js';
import { spanNoiseMask } from './spans.js';

/** Maximal runs of 1s: their lengths, in order. */
function runs(mask: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    if (i > 0 && mask[i - 1]) out[out.length - 1]!++;
    else out.push(1);
  }
  return out;
}

/** Python's and tf.round's rounding: halves to the even neighbour. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  return x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
}

describe('spanNoiseMask (T5 random_spans_noise_mask)', () => {
  it('corrupts round(0.15·n) tokens in round(that / 3) separate spans, never the first token', () => {
    const rng = new Rng(1);
    for (let n = 2; n <= 200; n++) {
      for (let rep = 0; rep < 5; rep++) {
        const mask = spanNoiseMask(n, 0.15, 3, rng);
        const noise = Math.min(Math.max(pyRound(n * 0.15), 1), n - 1);
        const spans = Math.min(Math.max(pyRound(noise / 3), 1), n - noise);
        expect(mask.reduce((s, x) => s + x, 0)).toBe(noise);
        // Spans are separated by at least one clean token, so the runs are exactly the spans.
        expect(runs(mask).length).toBe(spans);
        expect(mask[0]).toBe(0);
      }
    }
    // 30 · 0.15 is 4.5 in floating point: T5 (tf.round) corrupts 4 tokens, not 5.
    expect(spanNoiseMask(30, 0.15, 3, rng).reduce((s, x) => s + x, 0)).toBe(4);
  });

  it('cuts the noise into spans uniformly: over many rows a span has mean length noise/spans and every split occurs', () => {
    // n = 100: 15 noise tokens in 5 spans.
    const rng = new Rng(2);
    const rows = 4000;
    const lengths: number[] = [];
    const seen = new Set<string>();
    for (let r = 0; r < rows; r++) {
      const spans = runs(spanNoiseMask(100, 0.15, 3, rng));
      expect(spans.length).toBe(5);
      lengths.push(spans[0]!);
      seen.add(spans.join(','));
    }
    // The first part L of a uniformly random composition of 15 into 5 positive parts: P(L = l) = C(15 − l − 1, 3) / C(14, 4).
    const choose = (a: number, b: number) => {
      let c = 1;
      for (let i = 0; i < b; i++) c = (c * (a - i)) / (i + 1);
      return c;
    };
    let mean = 0;
    let second = 0;
    for (let l = 1; l <= 11; l++) {
      const p = choose(15 - l - 1, 3) / choose(14, 4);
      mean += l * p;
      second += l * l * p;
    }
    const sd = Math.sqrt(second - mean * mean);
    expect(mean).toBeCloseTo(3, 10);
    const observed = lengths.reduce((a, b) => a + b, 0) / rows;
    expect(Math.abs(observed - mean)).toBeLessThanOrEqual((4 * sd) / Math.sqrt(rows));
    // 1001 compositions of 15 into 5 parts; 4000 draws reach most of them.
    expect(seen.size).toBeGreaterThan(800);
  });

  it('with randomRoll, rotates the mask so every position is corrupted equally often (within 4 standard errors)', () => {
    const rng = new Rng(6);
    const n = 30; // round(30 · 0.15) = 4 noise tokens in a single span: without the roll always the last four
    const rows = 6000;
    const hits = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const mask = spanNoiseMask(n, 0.15, 3, rng, true);
      expect(mask.reduce((s, x) => s + x, 0)).toBe(4);
      // One span, possibly wrapped from the end to the start.
      expect(runs(mask).length).toBeLessThanOrEqual(2);
      mask.forEach((x, i) => (hits[i]! += x));
    }
    const p = 4 / n;
    for (const h of hits) expect(Math.abs(h / rows - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / rows));
    expect(Array.from(spanNoiseMask(n, 0.15, 3, new Rng(7))).slice(-4)).toEqual([1, 1, 1, 1]);
  });

  it('corrupts nothing in a 1-token row (as T5) and stays within the row for any density', () => {
    expect(Array.from(spanNoiseMask(1, 0.15, 3, new Rng(3)))).toEqual([0]);
    const rng = new Rng(4);
    for (let n = 2; n < 40; n++) {
      const mask = spanNoiseMask(n, 0.9, 3, rng);
      expect(mask.length).toBe(n);
      expect(mask[0]).toBe(0);
      expect(mask.reduce((s, x) => s + x, 0)).toBe(Math.min(Math.max(pyRound(n * 0.9), 1), n - 1));
      // Spans capped by the clean tokens, each clean piece non-empty: at most n − noise spans.
      expect(runs(mask).length).toBeLessThanOrEqual(n - mask.reduce((s, x) => s + x, 0));
    }
  });
});

describe('span-corruption rows', () => {
  const corpus = loadFixtureCorpus({ vocabWords: 300, maxDocuments: 60 }, import.meta.url);
  const ctx = (seed: number): DataContext => ({ seqLen: 64, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) });

  it('masks whole spans of the content with [MASK] and labels them with the original tokens', async () => {
    const objective = spanCorruption();
    const examples = await take(objective.examples!(streamDocuments(corpus.documents), ctx(5)), 200);
    const original = corpus.documents.flatMap((d) => [...d.ids]);
    let at = 0;
    for (const e of examples) {
      const labels = e.labels as Int32Array;
      const n = e.attention_mask.reduce((s, x) => s + x, 0);
      const content = n - 2;
      expect(e.input_ids[0]).toBe(corpus.special.cls);
      expect(e.input_ids[n - 1]).toBe(corpus.special.sep);
      // Rebuild the content from inputs and labels: it is the documents' text, in order.
      for (let i = 1; i <= content; i++) {
        const token = labels[i] === IGNORE_INDEX ? e.input_ids[i] : labels[i];
        if (labels[i] !== IGNORE_INDEX) expect(e.input_ids[i]).toBe(corpus.special.mask);
        expect(token).toBe(original[at++]);
      }
      const labelled = Uint8Array.from(labels, (l) => (l === IGNORE_INDEX ? 0 : 1));
      const noise = Math.min(Math.max(pyRound(Math.max(content, 2) * 0.15), 1), Math.max(content, 2) - 1);
      expect(labelled.reduce((s, x) => s + x, 0)).toBe(content >= 2 ? noise : 0);
      expect(labelled[0]).toBe(0); // never [CLS]
      expect(labelled.subarray(n - 1).every((x) => x === 0)).toBe(true);
    }
  });

  it('rejects options outside T5’s ranges', () => {
    expect(() => spanCorruption({ noiseDensity: 1 })).toThrow(/span-corruption\.noiseDensity/);
    expect(() => spanCorruption({ meanSpanLength: 0.5 })).toThrow(/span-corruption\.meanSpanLength/);
    expect(spanCorruption().options).toEqual({ noiseDensity: 0.15, meanSpanLength: 3, randomRoll: true });
  });
});

import { ConfigError, IGNORE_INDEX, Rng, composeObjectives, type DataContext, type Example } from '@pretext/core';
import { loadFixtureCorpus, streamDocuments, take } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { predictionBudget, randomNonSpecial, roundHalfEven, selectPositions, specialIds, type MaskingConfig } from './masking.js';
import { mlm, resolveMlmOptions, type MlmOptions } from './mlm.js';

const corpus = loadFixtureCorpus({}, import.meta.url);
const SEQ = 128;

function context(seed: number, seqLen = SEQ): DataContext {
  return { seqLen, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) };
}

/** Unmasked single-segment rows from the books (MLM's own builder). */
async function rows(seqLen = SEQ, limit = Infinity): Promise<Example[]> {
  const objective = mlm();
  return take(objective.defaultExamples!(streamDocuments(corpus.documents), context(0, seqLen)), limit);
}

async function masked(options: MlmOptions, seed = 1, seqLen = SEQ, limit = Infinity): Promise<{ before: Example[]; after: Example[] }> {
  const before = await rows(seqLen, limit);
  const objective = mlm(options);
  const ctx = context(seed, seqLen);
  return { before, after: before.map((e) => objective.transform!(e, ctx)) };
}

function labelsOf(e: Example): Int32Array {
  return e.labels as Int32Array;
}

/** Within `k` standard errors of a binomial proportion. */
function expectProportion(hits: number, n: number, p: number, k = 4): void {
  const se = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(hits / n - p), `observed ${hits}/${n} = ${(hits / n).toFixed(4)}, expected ${p.toFixed(4)} ± ${(k * se).toFixed(4)}`).toBeLessThanOrEqual(k * se);
}

describe('single-segment rows (mlm alone)', () => {
  it('are [CLS] tokens [SEP] + padding and reproduce every document in order', async () => {
    const all = await rows(SEQ);
    const { cls, sep, pad } = corpus.special;
    let d = 0;
    let at = 0;
    for (const e of all) {
      const n = e.attention_mask.reduce((a, b) => a + b, 0);
      expect(e.input_ids[0]).toBe(cls);
      expect(e.input_ids[n - 1]).toBe(sep);
      expect(Array.from(e.input_ids.subarray(n))).toEqual(new Array(SEQ - n).fill(pad));
      expect(Array.from(e.special_tokens_mask!.subarray(1, n - 1)).every((x) => x === 0)).toBe(true);
      expect([e.special_tokens_mask![0], e.special_tokens_mask![n - 1]]).toEqual([1, 1]);
      const doc = corpus.documents[d]!;
      expect(Array.from(e.input_ids.subarray(1, n - 1))).toEqual(Array.from(doc.ids.subarray(at, at + n - 2)));
      expect(Array.from(e.word_starts!.subarray(1, n - 1))).toEqual(Array.from(doc.wordStarts!.subarray(at, at + n - 2)));
      at += n - 2;
      if (at === doc.ids.length) {
        d++;
        at = 0;
      } else {
        expect(n).toBe(SEQ); // only a document's last row is padded
      }
    }
    expect(d).toBe(corpus.documents.length);
  });

  it('stream packing runs on across documents with [SEP] between them and pads only the last row', async () => {
    const docs = corpus.documents.slice(0, 40);
    const out = await take(mlm({ packing: 'stream' }).defaultExamples!(streamDocuments(docs), context(0)));
    const body: number[] = [];
    out.forEach((e, i) => {
      const n = e.attention_mask.reduce((a, b) => a + b, 0);
      if (i < out.length - 1) expect(n).toBeGreaterThanOrEqual(SEQ - 1);
      body.push(...e.input_ids.subarray(1, n - 1));
    });
    const expected: number[] = [];
    docs.forEach((d, i) => {
      if (i > 0) expected.push(corpus.special.sep!);
      expected.push(...d.ids);
    });
    // A separator that would fall last in a row is dropped (the row's own [SEP] ends the document there).
    const strip = (xs: number[]) => xs.filter((x) => x !== corpus.special.sep);
    expect(strip(body)).toEqual(strip(expected));
    expect(body.length).toBeLessThanOrEqual(expected.length);
  });
});

describe('BERT budget selection', () => {
  it('rounds half to even as Python does', () => {
    expect([0.5, 1.5, 2.5, 4.5, 4.51, 2.49].map(roundHalfEven)).toEqual([0, 2, 2, 4, 5, 2]);
    expect(predictionBudget(30, 0.15, 1000)).toBe(4); // 4.5 → 4, as BERT's int(round(4.5))
    expect(predictionBudget(3, 0.15, 1000)).toBe(1); // at least one
    expect(predictionBudget(512, 0.15, 20)).toBe(20); // BERT's cap at 512
  });

  it('draws random replacements uniformly over the non-special ids only', () => {
    const excluded = Int32Array.from([0, 3, 9]);
    const counts = new Array(10).fill(0);
    const rng = new Rng(7);
    const draws = 70_000;
    for (let i = 0; i < draws; i++) counts[randomNonSpecial(rng, 10, excluded)]++;
    expect([counts[0], counts[3], counts[9]]).toEqual([0, 0, 0]);
    for (const id of [1, 2, 4, 5, 6, 7, 8]) expectProportion(counts[id], draws, 1 / 7);
  });

  it('predicts exactly min(maxPredictions, max(1, round(0.15·n))) tokens, never specials or padding', async () => {
    for (const maxPredictions of [undefined, 7]) {
      const { before, after } = await masked({ maxPredictions }, 3);
      let checked = 0;
      let badBudget = 0;
      let badPosition = 0;
      let changedUnlabelled = 0;
      before.forEach((b, r) => {
        const a = after[r]!;
        const labels = labelsOf(a);
        const n = b.attention_mask.reduce((x, y) => x + y, 0);
        let count = 0;
        for (let i = 0; i < SEQ; i++) {
          if (labels[i] === IGNORE_INDEX) {
            if (a.input_ids[i] !== b.input_ids[i]) changedUnlabelled++;
            continue;
          }
          count++;
          if (b.attention_mask[i] !== 1 || b.special_tokens_mask![i] !== 0 || labels[i] !== b.input_ids[i]) badPosition++;
        }
        if (count !== predictionBudget(n, 0.15, maxPredictions ?? Math.round(0.15 * SEQ))) badBudget++;
        checked++;
      });
      expect({ badBudget, badPosition, changedUnlabelled }).toEqual({ badBudget: 0, badPosition: 0, changedUnlabelled: 0 });
      expect(checked).toBeGreaterThan(1500);
    }
  });

  it('replaces 80% by [MASK], 10% by a random non-special token and keeps 10% (within 4 standard errors)', async () => {
    const { before, after } = await masked({}, 5);
    const excluded = new Set(specialIds(corpus.special, corpus.vocabSize));
    const allowed = corpus.vocabSize - excluded.size;
    let n = 0;
    let mask = 0;
    let kept = 0;
    let random = 0;
    before.forEach((b, r) => {
      const a = after[r]!;
      const labels = labelsOf(a);
      for (let i = 0; i < SEQ; i++) {
        if (labels[i] === IGNORE_INDEX) continue;
        n++;
        const x = a.input_ids[i]!;
        if (x === corpus.special.mask) mask++;
        else if (x === b.input_ids[i]) kept++;
        else {
          random++;
          expect(excluded.has(x)).toBe(false);
          expect(x).toBeLessThan(corpus.vocabSize);
        }
      }
    });
    expect(n).toBeGreaterThan(30_000);
    expectProportion(mask, n, 0.8);
    // A random draw can land on the original token, which then reads as "kept".
    expectProportion(kept, n, 0.1 + 0.1 / allowed);
    expectProportion(random, n, 0.1 * (1 - 1 / allowed));
  });

  it('honours other replacement ratios (50% [MASK], 50% random, none kept on purpose)', async () => {
    const { before, after } = await masked({ maskReplace: 0.5, randomReplace: 0.5 }, 6, SEQ, 800);
    const allowed = corpus.vocabSize - specialIds(corpus.special, corpus.vocabSize).length;
    let n = 0;
    let mask = 0;
    let kept = 0;
    after.forEach((a, r) => {
      const labels = labelsOf(a);
      for (let i = 0; i < SEQ; i++) {
        if (labels[i] === IGNORE_INDEX) continue;
        n++;
        if (a.input_ids[i] === corpus.special.mask) mask++;
        else if (a.input_ids[i] === before[r]!.input_ids[i]) kept++;
      }
    });
    expectProportion(mask, n, 0.5);
    expectProportion(kept, n, 0.5 / allowed);
  });

  it('is deterministic under a seed and differs across seeds', async () => {
    const one = await masked({ wholeWord: true, ngram: { maxN: 3 } }, 11, SEQ, 200);
    const two = await masked({ wholeWord: true, ngram: { maxN: 3 } }, 11, SEQ, 200);
    const other = await masked({ wholeWord: true, ngram: { maxN: 3 } }, 12, SEQ, 200);
    const flat = (xs: Example[]) => xs.flatMap((e) => [...e.input_ids, ...labelsOf(e)]);
    expect(flat(one.after)).toEqual(flat(two.after));
    expect(flat(one.after)).not.toEqual(flat(other.after));
  });

  it('does not modify the example it is given', async () => {
    const [b] = await rows(SEQ, 1);
    const copy = Int32Array.from(b!.input_ids);
    mlm().transform!(b!, context(1));
    expect(Array.from(b!.input_ids)).toEqual(Array.from(copy));
  });
});

describe('whole-word masking', () => {
  for (const options of [{ wholeWord: true }, { wholeWord: true, selection: 'bernoulli' as const }, { wholeWord: true, ngram: { maxN: 3 } }]) {
    it(`never splits a word (${JSON.stringify(options)})`, async () => {
      const { before, after } = await masked(options, 21);
      let words = 0;
      let multi = 0;
      let split = 0;
      let overBudget = 0;
      let fallbacks = 0;
      before.forEach((b, r) => {
        const labels = labelsOf(after[r]!);
        const n = b.attention_mask.reduce((x, y) => x + y, 0);
        let count = 0;
        let chosenWords = 0;
        let shortest = Infinity;
        for (let i = 1; i < n - 1; ) {
          let j = i + 1;
          while (j < n - 1 && b.word_starts![j] === 0) j++;
          shortest = Math.min(shortest, j - i);
          const chosen = labels[i] !== IGNORE_INDEX;
          for (let k = i; k < j; k++) if ((labels[k] !== IGNORE_INDEX) !== chosen) split++;
          if (chosen) {
            words++;
            chosenWords++;
            count += j - i;
            if (j - i > 1) multi++;
          }
          i = j;
        }
        if (options.selection !== 'bernoulli') {
          const budget = predictionBudget(n, 0.15, Math.round(0.15 * SEQ));
          // Whole words may undershoot the budget (BERT skips words that do not fit) but never overshoot it,
          // except when no word fits at all: then exactly one shortest word is predicted.
          if (count > budget) {
            if (shortest > budget && chosenWords === 1 && count === shortest) fallbacks++;
            else overBudget++;
          }
          if (count === 0) overBudget++;
        }
      });
      expect({ split, overBudget }).toEqual({ split: 0, overBudget: 0 });
      expect(fallbacks).toBeLessThan(before.length / 20);
      expect(multi).toBeGreaterThan(1000); // multi-piece words really were masked whole
      expect(words).toBeGreaterThan(multi);
    });
  }

  it('selects one whole word over budget rather than none or half of one', () => {
    const config: MaskingConfig = { ...baseConfig(), wholeWord: true };
    // [CLS] w w w [SEP]: one three-piece word, budget round(0.15·5) = 1.
    const eligible = Uint8Array.from([0, 1, 1, 1, 0]);
    const chosen = selectPositions(eligible, Uint8Array.from([1, 1, 0, 0, 1]), 5, config, 128, new Rng(1));
    expect(Array.from(chosen)).toEqual([0, 1, 1, 1, 0]);
  });

  it('refuses examples without word starts', () => {
    const e: Example = { input_ids: Int32Array.from([2, 9, 9, 3]), attention_mask: new Uint8Array(4).fill(1) };
    expect(() => mlm({ wholeWord: true }).transform!(e, context(1, 4))).toThrow(ConfigError);
  });
});

function baseConfig(): MaskingConfig {
  return { probability: 0.15, maskReplace: 0.8, randomReplace: 0.1, selection: 'budget', maxPredictions: null, wholeWord: false, ngramMaxN: 0 };
}

describe('n-gram masking (ALBERT)', () => {
  it('draws n = 1, 2, 3 with shares 6/11, 3/11, 2/11 and still predicts the exact budget', async () => {
    const before = await rows(SEQ);
    const config: MaskingConfig = { ...baseConfig(), ngramMaxN: 3 };
    const drawn = [0, 0, 0, 0];
    const rng = new Rng(31);
    let runs3 = 0;
    for (const b of before) {
      const n = b.attention_mask.reduce((x, y) => x + y, 0);
      const eligible = Uint8Array.from(b.attention_mask, (m, i) => (m && !b.special_tokens_mask![i] ? 1 : 0));
      const chosen = selectPositions(eligible, undefined, n, config, SEQ, rng, (available, k) => {
        if (available === 3) drawn[k]!++;
      });
      expect(chosen.reduce((x, y) => x + y, 0)).toBe(predictionBudget(n, 0.15, Math.round(0.15 * SEQ)));
      for (let i = 0; i + 2 < SEQ; i++) if (chosen[i] && chosen[i + 1] && chosen[i + 2]) runs3++;
    }
    const total = drawn[1]! + drawn[2]! + drawn[3]!;
    expect(total).toBeGreaterThan(10_000);
    expectProportion(drawn[1]!, total, 6 / 11);
    expectProportion(drawn[2]!, total, 3 / 11);
    expectProportion(drawn[3]!, total, 2 / 11);
    expect(runs3).toBeGreaterThan(1000); // spans really are contiguous in the output
  });

  it('never joins units across a special token', () => {
    const config: MaskingConfig = { ...baseConfig(), ngramMaxN: 3, maxPredictions: 4, probability: 1 };
    // [CLS] a [SEP] b [SEP] c [SEP]: every unit is alone, so every draw has one unit available.
    const eligible = Uint8Array.from([0, 1, 0, 1, 0, 1, 0]);
    const seen: number[] = [];
    selectPositions(eligible, undefined, 7, config, 7, new Rng(2), (available) => seen.push(available));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((a) => a === 1)).toBe(true);
  });
});

describe('Bernoulli selection (Hugging Face)', () => {
  it('selects each eligible token with probability 0.15 (within 4 standard errors), never specials or padding', async () => {
    const { before, after } = await masked({ selection: 'bernoulli' }, 41);
    let eligible = 0;
    let chosen = 0;
    let empty = 0;
    before.forEach((b, r) => {
      const labels = labelsOf(after[r]!);
      let rowCount = 0;
      for (let i = 0; i < SEQ; i++) {
        const ok = b.attention_mask[i] === 1 && b.special_tokens_mask![i] === 0;
        if (ok) eligible++;
        if (labels[i] !== IGNORE_INDEX) {
          expect(ok).toBe(true);
          chosen++;
          rowCount++;
        }
      }
      if (rowCount === 0) empty++;
    });
    expect(empty).toBe(0);
    expectProportion(chosen, eligible, 0.15);
  });

  it('predicts at least one token even in a short row', () => {
    const objective = mlm({ selection: 'bernoulli', probability: 0.01 });
    for (let s = 0; s < 50; s++) {
      const e: Example = {
        input_ids: Int32Array.from([2, 40, 41, 3, 0]),
        attention_mask: Uint8Array.from([1, 1, 1, 1, 0]),
      };
      const labels = objective.transform!(e, context(s, 5)).labels as Int32Array;
      const picked = Array.from(labels).flatMap((x, i) => (x === IGNORE_INDEX ? [] : [i]));
      expect(picked.length).toBeGreaterThanOrEqual(1);
      expect(picked.every((i) => i === 1 || i === 2)).toBe(true); // specials derived from ids when no mask column
    }
  });
});

describe('options', () => {
  it('fills the papers’ defaults', () => {
    expect(resolveMlmOptions()).toEqual({
      probability: 0.15,
      maskReplace: 0.8,
      randomReplace: 0.1,
      selection: 'budget',
      maxPredictions: null,
      wholeWord: false,
      ngram: false,
      packing: 'document',
    });
    expect(resolveMlmOptions({ ngram: {} }).ngram).toEqual({ maxN: 3 });
    const o = mlm();
    expect([o.name, o.architecture, o.writes]).toEqual(['mlm', 'encoder', ['labels']]);
    expect(o.origin).toEqual({ module: '@pretext/objective-mlm', factory: 'mlm', options: {} });
  });

  it('refuses impossible values with a ConfigError naming the option', () => {
    expect(() => mlm({ probability: 0 })).toThrow(/mlm\.probability=0/);
    expect(() => mlm({ maskReplace: 0.9, randomReplace: 0.2 })).toThrow(/mlm\.randomReplace/);
    expect(() => mlm({ maxPredictions: 2.5 })).toThrow(ConfigError);
    expect(() => mlm({ selection: 'bernoulli', ngram: { maxN: 3 } })).toThrow(/n-gram masking needs selection "budget"/);
    expect(() => mlm({ selection: 'random' as 'budget' })).toThrow(ConfigError);
  });

  it('composes alone through its default example builder', async () => {
    const c = composeObjectives([mlm()]);
    const out = await take(c.examples(streamDocuments(corpus.documents), context(3)), 5);
    expect(out.every((e) => labelsOf(e).some((x) => x !== IGNORE_INDEX))).toBe(true);
  });
});

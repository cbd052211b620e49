import { IGNORE_INDEX, Rng, type DataContext, type Example } from '@pretext/core';
import { roundHalfEven } from '@pretext/objective-mlm';
import { loadFixtureCorpus, streamDocuments, take } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { electraRtd } from './electra.js';
import { electraRow, electraRowPlans, type ElectraExampleConfig, type ElectraRowPlan } from './examples.js';
import { maskRow } from './masking.js';

const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 12 }, import.meta.url);
const SEQ = 64;
const ELECTRA: ElectraExampleConfig = { singleSegmentProbability: 0.1, randomLengthProbability: 0.05 };
const context = (seed: number, seqLen = SEQ): DataContext => ({ seqLen, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) });
const plans = (seed: number, config = ELECTRA, seqLen = SEQ): Promise<ElectraRowPlan[]> =>
  take(electraRowPlans(streamDocuments(corpus.documents), context(seed, seqLen), config));
/** 4-standard-error tolerance of a share p over n draws. */
const tol = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

describe('electra-rtd rows (ELECTRA ExampleBuilder)', () => {
  it('lays out [CLS] A [SEP] B [SEP] from one document, A then B in text order, types 0 then 1', async () => {
    const all = await plans(1);
    expect(all.length).toBeGreaterThan(300);
    const { cls, sep, pad } = corpus.special;
    let pairs = 0;
    for (const plan of all) {
      const row = electraRow(plan, context(1));
      const a = plan.aEnd - plan.aStart;
      const b = plan.bEnd - plan.bStart;
      expect(a).toBeGreaterThanOrEqual(1);
      expect(plan.bStart).toBeGreaterThanOrEqual(plan.aEnd);
      expect(plan.bEnd).toBeLessThanOrEqual(plan.doc.ids.length);
      const expected = [cls!, ...plan.doc.ids.subarray(plan.aStart, plan.aEnd), sep!, ...(b > 0 ? [...plan.doc.ids.subarray(plan.bStart, plan.bEnd), sep!] : [])];
      expect(expected.length).toBeLessThanOrEqual(SEQ);
      expect(Array.from(row.input_ids.subarray(0, expected.length))).toEqual(expected);
      expect(row.input_ids.subarray(expected.length).every((x) => x === pad)).toBe(true);
      expect(row.attention_mask.reduce((s, x) => s + x, 0)).toBe(expected.length);
      const types = Array.from(row.token_type_ids!.subarray(0, expected.length));
      expect(types).toEqual([...new Array<number>(a + 2).fill(0), ...new Array<number>(b > 0 ? b + 1 : 0).fill(1)]);
      const specials = Array.from(row.special_tokens_mask!);
      expect(specials.filter((x) => x === 0).length).toBe(a + b);
      if (b > 0) pairs++;
    }
    // Most rows have two segments (single ones: the 10%, one-sentence chunks, and B cut away by truncation).
    expect(pairs / all.length).toBeGreaterThan(0.6);
  });

  it('never spans documents, and accumulates whole sentences: A starts a chunk at a sentence start, B continues it', async () => {
    const all = await plans(2);
    const ofDoc = new Map<string, ElectraRowPlan[]>();
    for (const p of all) ofDoc.set(p.doc.id, [...(ofDoc.get(p.doc.id) ?? []), p]);
    expect(ofDoc.size).toBe(corpus.documents.length);
    for (const doc of corpus.documents) {
      const rows = ofDoc.get(doc.id)!;
      const starts = new Set([...doc.sentenceStarts!, doc.ids.length]);
      let prevEnd = 0;
      for (const p of rows) {
        // Each chunk starts where the previous one ended (truncation drops tokens, never moves a chunk).
        expect(starts.has(p.aStart)).toBe(true);
        expect(p.aStart).toBeGreaterThanOrEqual(prevEnd);
        if (p.bEnd > p.bStart) expect(starts.has(p.bStart)).toBe(true);
        prevEnd = Math.max(p.aEnd, p.bEnd);
      }
      // Every document's chunks are consecutive: the first starts at 0.
      expect(rows[0]!.aStart).toBe(0);
    }
  });

  it('splits at the first-segment target: B begins where the next sentence would cross (target − 3) // 2', async () => {
    const all = await plans(3);
    let checked = 0;
    let crossed = 0;
    for (const p of all) {
      if (p.bEnd === p.bStart) continue;
      const firstTarget = Math.floor((p.target - 3) / 2);
      const a = p.bStart - p.aStart; // untruncated A: B starts right after it
      const starts = p.doc.sentenceStarts!;
      const k = starts.indexOf(p.bStart);
      const nextEnd = k + 1 < starts.length ? starts[k + 1]! : p.doc.ids.length;
      // B's first sentence did not fit below the target (or A had already reached it).
      expect(a + (nextEnd - p.bStart) >= firstTarget || a >= firstTarget).toBe(true);
      checked++;
      if (a > firstTarget) crossed++;
    }
    expect(checked).toBeGreaterThan(200);
    // A sentence that crosses the target joins A half of the time, so some As end above it.
    expect(crossed).toBeGreaterThan(10);
  });

  it('makes 10% of rows single-segment on top of the natural ones (within 4 standard errors)', async () => {
    const single = async (p: number) => {
      const rows = await plans(4, { singleSegmentProbability: p, randomLengthProbability: 0 });
      return { share: rows.filter((r) => r.bEnd === r.bStart).length / rows.length, n: rows.length };
    };
    const natural = await single(0);
    const forced = await single(0.1);
    const all = await single(1);
    expect(all.share).toBe(1);
    // With p: a row is single when forced (p) or, otherwise, when it would be anyway.
    const expected = 0.1 + 0.9 * natural.share;
    expect(Math.abs(forced.share - expected)).toBeLessThanOrEqual(tol(expected, forced.n) + tol(natural.share, natural.n));
    expect(forced.share).toBeGreaterThan(natural.share);
  });

  it('aims 5% of rows at a random length in [5, seqLen]', async () => {
    const all = await plans(5, ELECTRA, 128);
    const after = all.slice(1);
    const short = after.filter((p) => p.target !== 128);
    for (const p of all) expect(p.target >= 5 && p.target <= 128).toBe(true);
    // randint(5, 128) gives 128 itself with probability 1/124.
    const expected = 0.05 * (1 - 1 / 124);
    expect(Math.abs(short.length / after.length - expected)).toBeLessThanOrEqual(tol(expected, after.length));
  });
});

describe('electra-rtd masking', () => {
  const masked = async (seed: number, n: number): Promise<{ raw: Example; row: Example }[]> => {
    const ctx = context(seed);
    const raws = await take(electraRtd().defaultExamples!(streamDocuments(corpus.documents), ctx), n);
    return raws.map((raw) => ({ raw, row: maskRow(raw, ctx, { probability: 0.15, maskReplace: 0.85, maxPredictions: null }) }));
  };

  it('masks exactly max(1, round(0.15 · Σ input_mask)) tokens per row, never special, padding or [MASK]', async () => {
    for (const { raw, row } of await masked(6, 200)) {
      const length = raw.attention_mask.reduce((s, x) => s + x, 0);
      // Python's round (half to even), as ELECTRA computes the budget.
      const expected = Math.max(1, roundHalfEven(0.15 * length));
      const labels = row.labels as Int32Array;
      let count = 0;
      labels.forEach((label, i) => {
        if (label === IGNORE_INDEX) return;
        count++;
        expect(label).toBe(raw.input_ids[i]);
        expect(raw.attention_mask[i]).toBe(1);
        expect(raw.special_tokens_mask![i]).toBe(0);
        expect(label).not.toBe(corpus.special.mask);
      });
      expect(count).toBe(expected);
    }
  });

  it('shows 85% of masked tokens as [MASK] and keeps the rest, never a random token', async () => {
    let selected = 0;
    let asMask = 0;
    for (const { raw, row } of await masked(7, 400)) {
      const labels = row.labels as Int32Array;
      for (let i = 0; i < SEQ; i++) {
        if (labels[i] === IGNORE_INDEX) {
          expect(row.input_ids[i]).toBe(raw.input_ids[i]);
          continue;
        }
        selected++;
        if (row.input_ids[i] === corpus.special.mask) asMask++;
        else expect(row.input_ids[i]).toBe(raw.input_ids[i]);
      }
    }
    expect(selected).toBeGreaterThan(3000);
    expect(Math.abs(asMask / selected - 0.85)).toBeLessThanOrEqual(tol(0.85, selected));
  });
});

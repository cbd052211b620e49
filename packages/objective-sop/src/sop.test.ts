import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX, ObjectiveConflictError, Rng, collate, composeObjectives, type DataContext, type Example, type TF } from '@pretext/core';
import { mlm } from '@pretext/objective-mlm';
import { nsp, pairInstances, type PairConfig, type PairInstance } from '@pretext/objective-nsp';
import { loadFixtureCorpus, streamDocuments, take, testForwardContext, testHeadContext } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { SOP_LABEL, resolveSopOptions, sop, type SopOptions } from './sop.js';

const corpus = loadFixtureCorpus({ sentencesPerDocument: 12 }, import.meta.url);
const SEQ = 128;

function context(seed: number, seqLen = SEQ): DataContext {
  return { seqLen, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) };
}

async function instances(options: SopOptions, seed = 1, seqLen = SEQ): Promise<PairInstance[]> {
  const config: PairConfig = { task: 'sop', ...resolveSopOptions(options) };
  return take(pairInstances(streamDocuments(corpus.documents), context(seed, seqLen), config));
}

function expectProportion(hits: number, n: number, p: number, k = 4): void {
  const se = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(hits / n - p), `observed ${hits}/${n} = ${(hits / n).toFixed(4)}, expected ${p.toFixed(4)} ± ${(k * se).toFixed(4)}`).toBeLessThanOrEqual(k * se);
}

/** How each instance relates A to B: in order, swapped, or from different documents. */
function relation(x: PairInstance): 'in-order' | 'swapped' | 'other-document' | 'broken' {
  if (x.a.doc !== x.b.doc) return x.a.doc.id !== x.b.doc.id ? 'other-document' : 'broken';
  if (x.b.start >= x.a.end && x.b.start - x.a.end <= x.truncated) return 'in-order';
  if (x.a.start >= x.b.end && x.a.start - x.b.end <= x.truncated) return 'swapped';
  return 'broken';
}

describe('sentence-order pairs (ALBERT)', () => {
  it('keeps B right after A (label 0) or swaps them (label 1), half the time each (within 4 standard errors)', async () => {
    const all = await instances({}, 2);
    const multi = all.filter((x) => !x.singleSegment);
    expect(multi.length).toBeGreaterThan(1500);
    const rel = multi.map(relation);
    expect(rel.filter((r, i) => (multi[i]!.label === 0 ? r !== 'in-order' : r !== 'swapped')).length).toBe(0);
    expectProportion(multi.filter((x) => x.label === 1).length, multi.length, 0.5);
  });

  it('gives single-segment chunks a B from another document, labelled 1, as ALBERT does', async () => {
    const all = await instances({ shortSeqProb: 0.5 }, 3, 48);
    const single = all.filter((x) => x.singleSegment);
    expect(single.length).toBeGreaterThan(50);
    expect(single.every((x) => x.label === 1 && relation(x) === 'other-document')).toBe(true);
    // So label 1 is over-represented by exactly the single-segment share.
    const ones = all.filter((x) => x.label === 1).length;
    expectProportion(ones, all.length, 0.5 + (0.5 * single.length) / all.length);
  });

  it('split: single segments are cut into two ordered halves, so every pair stays within one document', async () => {
    const all = await instances({ singleSegment: 'split', shortSeqProb: 0.5 }, 4, 48);
    const single = all.filter((x) => x.singleSegment);
    expect(single.length).toBeGreaterThan(50);
    const rel = all.map(relation);
    expect(rel.filter((r, i) => (all[i]!.label === 0 ? r !== 'in-order' : r !== 'swapped')).length).toBe(0);
    expectProportion(all.filter((x) => x.label === 1).length, all.length, 0.5);
  });

  it('skip: no single-segment instance, labels balanced', async () => {
    const all = await instances({ singleSegment: 'skip', shortSeqProb: 0.5 }, 5, 48);
    expect(all.some((x) => x.singleSegment)).toBe(false);
    expectProportion(all.filter((x) => x.label === 1).length, all.length, 0.5);
  });

  it('is deterministic under a seed and differs across seeds', async () => {
    const rows = async (seed: number) =>
      (await take(sop().examples!(streamDocuments(corpus.documents.slice(0, 100)), context(seed)))).flatMap((e) => [...e.input_ids, e[SOP_LABEL] as number]);
    expect(await rows(7)).toEqual(await rows(7));
    expect(await rows(7)).not.toEqual(await rows(8));
  });
});

describe('sop objective', () => {
  it('declares its contract and refuses nsp and clm', () => {
    const o = sop();
    expect([o.name, o.architecture, o.writes]).toEqual(['sop', 'encoder', [SOP_LABEL]]);
    expect(o.options).toEqual({ shortSeqProb: 0.1, negativeProbability: 0.5, documentBuffer: 1000, singleSegment: 'random-document' });
    expect(() => composeObjectives([sop(), nsp()])).toThrow(/ALBERT replaced nsp with sop/);
    expect(() => composeObjectives([nsp(), sop()])).toThrow(ObjectiveConflictError);
    const clm = { ...mlm(), name: 'clm', architecture: 'decoder' as const, transform: undefined };
    expect(() => composeObjectives([sop(), clm])).toThrow(/bidirectional encoder/);
  });

  it('composed with mlm() (ALBERT: n-grams) gives rows carrying labels and sentence_order_label', async () => {
    const c = composeObjectives([mlm({ ngram: { maxN: 3 } }), sop()]);
    const rows: Example[] = await take(c.examples(streamDocuments(corpus.documents.slice(0, 100)), context(9)), 200);
    expect(rows.length).toBe(200);
    let bad = 0;
    for (const e of rows) {
      if (e[SOP_LABEL] !== 0 && e[SOP_LABEL] !== 1) bad++;
      const labels = e.labels as Int32Array;
      const n = e.attention_mask.reduce((a, b) => a + b, 0);
      let predicted = 0;
      for (let i = 0; i < SEQ; i++) {
        if (labels[i] === IGNORE_INDEX) continue;
        predicted++;
        if (e.special_tokens_mask![i] || !e.attention_mask[i]) bad++;
      }
      if (predicted !== Math.min(Math.round(0.15 * SEQ), Math.max(1, Math.round(0.15 * n)))) bad++;
    }
    expect(bad).toBe(0);
  });

  it('has a [CLS] classifier head with term "sop" over rows', async () => {
    await tf.setBackend('cpu');
    const T = tf as unknown as TF;
    const batch = collate(await take(sop().examples!(streamDocuments(corpus.documents.slice(0, 30)), context(1, 32)), 4));
    const hc = testHeadContext(T, { vocabSize: corpus.vocabSize, seqLen: 32, prefix: 'sop' });
    const head = sop().head(hc);
    expect(head.terms).toEqual({ sop: 1 });
    expect(head.counts(batch)).toEqual({ sop: 4 });
    const out = head.forward(testForwardContext(T, batch, hc.backbone));
    // Untrained, two balanced classes: about log 2 per row.
    expect(out.sums.sop!.dataSync()[0]! / 4).toBeCloseTo(Math.log(2), 1);
    expect(out.metrics!.accuracy!.count).toBe(4);
    hc.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import { classificationMetrics, confusionMatrix, meanAndSpread } from './metrics.js';
import { stratifiedSplit, trainSubset } from './split.js';

describe('metrics (checked by hand)', () => {
  it('binary: confusion matrix, accuracy, per-class precision/recall/F1 and macro F1', () => {
    // truth:     1 1 1 1 0 0 0 0 0 0
    // predicted: 1 1 1 0 1 0 0 0 0 0  → TP(spam)=3, FN=1, FP=1, TN=5
    const truth = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const predicted = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0];
    const m = classificationMetrics(truth, predicted, ['ham', 'spam']);
    expect(m.confusion).toEqual([
      [5, 1],
      [1, 3],
    ]);
    expect(m.accuracy).toBeCloseTo(0.8, 12);
    // ham: precision 5/6, recall 5/6, F1 5/6; spam: precision 3/4, recall 3/4, F1 3/4.
    expect(m.perClass[0]!.f1).toBeCloseTo(5 / 6, 12);
    expect(m.perClass[1]!.precision).toBeCloseTo(0.75, 12);
    expect(m.perClass[1]!.support).toBe(4);
    expect(m.macroF1).toBeCloseTo((5 / 6 + 3 / 4) / 2, 12);
  });

  it('three classes with a class never predicted (F1 0, as scikit-learn zero_division=0)', () => {
    const truth = [0, 0, 1, 1, 2, 2];
    const predicted = [0, 1, 1, 1, 0, 1];
    const m = classificationMetrics(truth, predicted, ['a', 'b', 'c']);
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 1, 0],
    ]);
    // a: P 1/2 R 1/2 F1 1/2; b: P 2/4 R 1 F1 2/3; c: 0.
    expect(m.perClass.map((c) => c.f1)).toEqual([0.5, expect.closeTo(2 / 3, 12), 0]);
    expect(m.macroF1).toBeCloseTo((0.5 + 2 / 3) / 3, 12);
    expect(m.accuracy).toBeCloseTo(0.5, 12);
  });

  it('a majority-class predictor: accuracy is the majority share, macro F1 is far lower', () => {
    const truth = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
    const m = classificationMetrics(truth, new Array(10).fill(0), ['ham', 'spam']);
    expect(m.accuracy).toBeCloseTo(0.7, 12);
    // ham F1 = 2·0.7·1/(1.7); spam 0.
    expect(m.macroF1).toBeCloseTo((2 * 0.7) / 1.7 / 2, 12);
  });

  it('refuses mismatched lengths and out-of-range labels', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/one prediction per label/);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/below 2/);
  });

  it('mean and sample standard deviation', () => {
    const s = meanAndSpread([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.std).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(meanAndSpread([3]).std).toBe(0);
  });
});

describe('the fixed split', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));

  it('is stratified, disjoint, covers every row, and depends only on the seed', () => {
    const s = stratifiedSplit(labels, { seed: 7 });
    const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([s.train.length, s.validation.length, s.test.length]).toEqual([700, 100, 200]);
    expect(Array.from(s.test).filter((i) => labels[i] === 1).length).toBe(60);
    expect(Array.from(s.validation).filter((i) => labels[i] === 1).length).toBe(30);
    expect(stratifiedSplit(labels, { seed: 7 })).toEqual(s);
    expect(stratifiedSplit(labels, { seed: 8 }).test).not.toEqual(s.test);
  });

  it('training subsets nest (1% ⊂ 10% ⊂ 100%) and keep the label shares', () => {
    const s = stratifiedSplit(labels, { seed: 7 });
    const one = trainSubset(s, labels, 0.01);
    const ten = trainSubset(s, labels, 0.1);
    expect(one.length).toBe(Math.round(490 * 0.01) + Math.round(210 * 0.01));
    expect(ten.length).toBe(70);
    expect(Array.from(ten).filter((i) => labels[i] === 1).length).toBe(21);
    const inTen = new Set(ten);
    expect(Array.from(one).every((i) => inTen.has(i))).toBe(true);
    expect(new Set(trainSubset(s, labels, 0.1))).toEqual(inTen);
  });
});

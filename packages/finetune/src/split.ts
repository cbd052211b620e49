import { ConfigError, Rng, seedFromString } from '@pretext/core';

export interface SplitOptions {
  /** Share of each label held out for validation (early stopping). Default 0.1. */
  readonly validation?: number;
  /** Share of each label held out for the final test. Default 0.2. */
  readonly test?: number;
  /** Seed of the split: keep it fixed to compare models on the same rows. Default 1234. */
  readonly seed?: number;
}

export interface Split {
  /** Training rows, in a fixed seeded order: `subset(f)` takes a per-label prefix, so smaller subsets nest in larger ones. */
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
}

/**
 * A stratified split: within each label a seeded shuffle, the first `test` share to test, the next `validation` share
 * to validation, the rest to training. It depends only on the labels and the seed, never on the model.
 */
export function stratifiedSplit(labels: Int32Array, options: SplitOptions = {}): Split {
  const validation = options.validation ?? 0.1;
  const test = options.test ?? 0.2;
  if (!(validation >= 0 && test >= 0 && validation + test < 1)) throw new ConfigError('split', { validation, test }, 'non-negative shares adding up to less than 1');
  const rng = new Rng(seedFromString('split', options.seed ?? 1234));
  const groups = byLabel(labels);
  const out = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const rows of groups) {
    rng.shuffle(rows);
    const nTest = Math.round(rows.length * test);
    const nVal = Math.round(rows.length * validation);
    out.test.push(...rows.slice(0, nTest));
    out.validation.push(...rows.slice(nTest, nTest + nVal));
    out.train.push(...rows.slice(nTest + nVal));
  }
  // Interleave the training rows in one seeded order (the per-label order within it is kept, so prefixes nest).
  const train = rng.shuffle(out.train);
  return { train: Int32Array.from(train), validation: Int32Array.from(out.validation.sort((a, b) => a - b)), test: Int32Array.from(out.test.sort((a, b) => a - b)) };
}

/**
 * The first `fraction` of each label's training rows (at least one per label), in the split's order: 1% ⊂ 10% ⊂ 100%.
 */
export function trainSubset(split: Split, labels: Int32Array, fraction: number): Int32Array {
  if (!(fraction > 0 && fraction <= 1)) throw new ConfigError('trainFraction', fraction, 'a number in (0, 1]');
  if (fraction === 1) return split.train;
  const total = new Map<number, number>();
  for (const i of split.train) total.set(labels[i]!, (total.get(labels[i]!) ?? 0) + 1);
  const want = new Map([...total].map(([label, n]) => [label, Math.max(1, Math.round(n * fraction))]));
  const taken = new Map<number, number>();
  const out: number[] = [];
  for (const i of split.train) {
    const label = labels[i]!;
    const t = taken.get(label) ?? 0;
    if (t < want.get(label)!) {
      out.push(i);
      taken.set(label, t + 1);
    }
  }
  return Int32Array.from(out);
}

function byLabel(labels: Int32Array): number[][] {
  const groups = new Map<number, number[]>();
  labels.forEach((label, i) => (groups.get(label) ?? groups.set(label, []).get(label)!).push(i));
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, rows]) => rows);
}

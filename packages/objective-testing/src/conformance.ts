import {
  IGNORE_INDEX,
  Rng,
  collate,
  composeObjectives,
  type Batch,
  type Composition,
  type DataContext,
  type Example,
  type ObjectiveHead,
  type ObjectiveSpec,
  type Scalar,
  type TF,
  type Variable,
} from '@pretext/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sliceBatch, testForwardContext, testHeadContext, type TestHeadContext } from './contexts.js';
import { loadFixtureCorpus, streamDocuments, take, type FixtureCorpus } from './corpus.js';

export interface ConformanceOptions {
  /** The tfjs the package tests with (`import * as tf from '@tensorflow/tfjs'`). */
  readonly tf: TF;
  /** Makes the objectives to check, fresh each time: the one under test plus any it needs (`() => [mlm(), nsp()]`). */
  readonly objectives: () => ObjectiveSpec[];
  /** Tokens per example. Default 64. */
  readonly seqLen?: number;
  /** Rows per checked batch. Default 8. */
  readonly batchSize?: number;
  /** Real documents to build examples from. Default: the fixture books (`loadFixtureCorpus()`). */
  readonly corpus?: () => FixtureCorpus;
  /** True when examples do not depend on the seed (e.g. plain causal LM): skips "different seeds differ". */
  readonly deterministic?: boolean;
  /** Per-token label columns may be set on special tokens (a causal LM predicting end-of-text). Default false. */
  readonly labelsOnSpecialTokens?: boolean;
  /** Optimizer steps of the overfitting check. Default 20. */
  readonly trainSteps?: number;
  /** tfjs backend for the head checks. Default 'cpu'. */
  readonly backend?: string;
}

/**
 * Registers a vitest suite that every objective package can run against its objectives:
 * determinism under a seed, column shapes and dtypes, no labels on padding (or special tokens), counts that
 * depend on the data only, sum/count accumulation equal to the full batch (sums, counts and gradients), and a
 * tiny model whose loss falls. Uses real text and real tfjs; nothing is mocked.
 */
export function describeObjectiveConformance(options: ConformanceOptions): void {
  const { tf } = options;
  const seqLen = options.seqLen ?? 64;
  const batchSize = options.batchSize ?? 8;
  const trainSteps = options.trainSteps ?? 20;
  const names = composeObjectives(options.objectives()).names.join(' + ');

  describe(`objective conformance: ${names}`, () => {
    let corpus: FixtureCorpus;
    let composition: Composition;
    const context = (seed: number): DataContext => ({ seqLen, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) });
    const examples = (seed: number, n: number, c: Composition = composition): Promise<Example[]> =>
      take(c.examples(streamDocuments(corpus.documents), context(seed)), n);

    beforeAll(async () => {
      corpus = options.corpus?.() ?? loadFixtureCorpus({ vocabWords: 400, maxDocuments: 120 });
      composition = composeObjectives(options.objectives());
      await tf.setBackend(options.backend ?? 'cpu');
    });

    it('is deterministic under a seed', async () => {
      const fresh = () => composeObjectives(options.objectives());
      const a = await examples(11, 32, fresh());
      const b = await examples(11, 32, fresh());
      expect(a.length).toBe(32);
      expect(a.map(serialise)).toEqual(b.map(serialise));
      if (!options.deterministic) {
        const c = await examples(12, 32, fresh());
        expect(c.map(serialise)).not.toEqual(a.map(serialise));
      }
    });

    it('writes its columns with per-token length seqLen and the contract dtypes', async () => {
      const rows = await examples(1, 32);
      const written = composition.objectives.flatMap((o) => o.objective.writes);
      for (const e of rows) {
        expect(e.input_ids).toBeInstanceOf(Int32Array);
        expect(e.attention_mask).toBeInstanceOf(Uint8Array);
        for (const [key, value] of Object.entries(e)) {
          if (value === undefined) continue;
          if (typeof value === 'number') expect(Number.isFinite(value), `${key} is a finite number`).toBe(true);
          else expect(value.length, `${key} has seqLen entries`).toBe(seqLen);
        }
        for (const column of written) expect(e[column], `column ${column} is written`).toBeDefined();
        for (const id of e.input_ids) if (id < 0 || id >= corpus.vocabSize) throw new RangeError(`input id ${id} outside [0, ${corpus.vocabSize})`);
      }
      const batch = collate(rows);
      expect(batch.size).toBe(32);
    });

    it(options.labelsOnSpecialTokens ? 'puts no labels on padding' : 'puts no labels on padding or special tokens', async () => {
      const rows = await examples(2, 64);
      const written = new Set(composition.objectives.flatMap((o) => o.objective.writes));
      let labelled = 0;
      let misplaced = 0;
      for (const e of rows) {
        for (const column of written) {
          const labels = e[column];
          if (!(labels instanceof Int32Array)) continue;
          for (let i = 0; i < seqLen; i++) {
            if (labels[i] === IGNORE_INDEX) continue;
            labelled++;
            if (!e.attention_mask[i]) misplaced++;
            else if (!options.labelsOnSpecialTokens && e.special_tokens_mask?.[i]) misplaced++;
          }
        }
      }
      expect(misplaced).toBe(0);
      if ([...written].some((c) => rows[0]?.[c] instanceof Int32Array)) expect(labelled).toBeGreaterThan(0);
    });

    describe('heads', () => {
      let hc: TestHeadContext;
      let heads: { name: string; head: ObjectiveHead }[];
      let batch: Batch;
      beforeAll(async () => {
        hc = testHeadContext(tf, { vocabSize: corpus.vocabSize, seqLen, dModel: 32, seed: 3 });
        heads = composition.objectives.map(({ objective }) => ({ name: objective.name, head: objective.head(hc.forObjective(objective.name)) }));
        batch = collate(await examples(3, batchSize));
      });

      it('return scalar sums for exactly their terms, with counts from the data alone', () => {
        for (const { name, head } of heads) {
          const counts = head.counts(batch);
          expect(Object.keys(counts).sort(), `${name} counts its terms`).toEqual(Object.keys(head.terms).sort());
          for (const c of Object.values(counts)) expect(Number.isInteger(c) && c >= 0).toBe(true);
          expect(head.counts(batch)).toEqual(counts);
          const out = tf.tidy(() => {
            const o = head.forward(testForwardContext(tf, batch, hc.backbone));
            return {
              sums: Object.fromEntries(Object.entries(o.sums).map(([k, v]) => [k, { shape: v.shape, value: v.dataSync()[0]! }])),
              metrics: Object.fromEntries(Object.entries(o.metrics ?? {}).map(([k, v]) => [k, { count: v.count, value: v.sum.dataSync()[0]! }])),
            };
          });
          expect(Object.keys(out.sums).sort()).toEqual(Object.keys(head.terms).sort());
          for (const [term, s] of Object.entries(out.sums)) {
            expect(s.shape, `${name}.${term} is a scalar`).toEqual([]);
            expect(Number.isFinite(s.value), `${name}.${term} is finite`).toBe(true);
            if (counts[term]! > 0) expect(s.value).toBeGreaterThan(0);
          }
          for (const m of Object.values(out.metrics)) {
            expect(Number.isInteger(m.count) && m.count >= 0).toBe(true);
            expect(m.value).toBeGreaterThanOrEqual(0);
            expect(m.value).toBeLessThanOrEqual(m.count + 1e-6);
          }
        }
      });

      it('accumulate exactly: micro-batch sums, counts and gradients add up to the full batch', () => {
        const params = [...hc.variables.values()];
        const cut = Math.max(1, Math.floor(batchSize / 3));
        for (const { name, head } of heads) {
          for (const term of Object.keys(head.terms)) {
            const run = (b: Batch) => {
              const { value, grads } = tf.variableGrads(() => head.forward(testForwardContext(tf, b, hc.backbone)).sums[term]! as Scalar, params);
              const out = { sum: value.dataSync()[0]!, count: head.counts(b)[term]!, grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync()])) };
              value.dispose();
              for (const g of Object.values(grads)) g.dispose();
              return out;
            };
            const full = run(batch);
            const a = run(sliceBatch(batch, 0, cut));
            const b = run(sliceBatch(batch, cut, batchSize));
            expect(a.count + b.count, `${name}.${term} counts add up`).toBe(full.count);
            expect(Math.abs(a.sum + b.sum - full.sum), `${name}.${term} sums add up`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(full.sum)));
            let worst = 0;
            let scale = 0;
            for (const [k, want] of Object.entries(full.grads)) {
              const ga = a.grads[k]!;
              const gb = b.grads[k]!;
              for (let i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(ga[i]! + gb[i]! - want[i]!));
                scale = Math.max(scale, Math.abs(want[i]!));
              }
            }
            expect(worst, `${name}.${term} gradients add up`).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
          }
        }
      });

      it('train: a tiny model’s loss falls on a fixed batch', () => {
        const params: Variable[] = [...hc.variables.values()];
        const weights = new Map(composition.objectives.map((o) => [o.objective.name, o.weight]));
        const counts = heads.map(({ head }) => head.counts(batch));
        const optimizer = tf.train.adam(1e-2);
        const loss = () =>
          tf.tidy(() => {
            let total = tf.scalar(0);
            heads.forEach(({ name, head }, k) => {
              const out = head.forward(testForwardContext(tf, batch, hc.backbone));
              for (const [term, w] of Object.entries(head.terms)) {
                const n = counts[k]![term]!;
                if (n > 0) total = tf.add(total, tf.mul(out.sums[term]!, (weights.get(name)! * w) / n));
              }
            });
            return total as Scalar;
          });
        const first = loss().dataSync()[0]!;
        for (let step = 0; step < trainSteps; step++) optimizer.minimize(loss, false, params);
        const last = loss().dataSync()[0]!;
        optimizer.dispose();
        expect(Number.isFinite(last)).toBe(true);
        expect(last, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`).toBeLessThan(first * 0.8);
      });
    });
  });
}

/** Every column of an example as plain numbers, for equality checks. */
function serialise(e: Example): Record<string, number[] | number> {
  const out: Record<string, number[] | number> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'number' ? v : Array.from(v);
  }
  return out;
}

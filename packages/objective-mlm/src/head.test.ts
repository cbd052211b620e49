import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX, Rng, collate, type Batch, type Example, type Tensor2D, type Tensor3D, type TF } from '@pretext/core';
import { loadFixtureCorpus, sliceBatch, streamDocuments, take, testForwardContext, testHeadContext } from '@pretext/objective-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherRows } from './layers.js';
import { mlm } from './mlm.js';

const T = tf as unknown as TF;
const corpus = loadFixtureCorpus({ vocabWords: 300 }, import.meta.url);
const SEQ = 32;

let batch: Batch;
beforeAll(async () => {
  await tf.setBackend('cpu');
  const objective = mlm();
  const ctx = { seqLen: SEQ, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(3) };
  const examples: Example[] = await take(
    (async function* () {
      for await (const e of objective.defaultExamples!(streamDocuments(corpus.documents), ctx)) yield objective.transform!(e, ctx);
    })(),
    6,
  );
  batch = collate(examples);
});

function setup(seed = 1) {
  const hc = testHeadContext(T, { vocabSize: corpus.vocabSize, seqLen: SEQ, dModel: 16, seed, prefix: 'mlm' });
  const head = mlm().head(hc);
  return { hc, head };
}

/** Per-position cross-entropy of the head computed the long way: every position, then keep the labelled ones. */
function referenceLosses(hc: ReturnType<typeof setup>['hc'], hidden: Tensor3D, labels: Int32Array): number[] {
  return tf.tidy(() => {
    const v = (name: string) => hc.variables.get(`mlm/${name}`)!;
    const h = tf.reshape(hidden, [-1, 16]) as tf.Tensor2D;
    let x = tf.add(tf.matMul(h, v('transform/kernel') as tf.Tensor2D), v('transform/bias'));
    x = tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
    const { mean, variance } = tf.moments(x, -1, true);
    x = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12))), v('transform/gamma')), v('transform/beta'));
    const logits = tf.add(tf.matMul(x, hc.wordEmbeddings as tf.Tensor2D, false, true), v('output/bias'));
    const logp = tf.logSoftmax(logits).arraySync() as number[][];
    const out: number[] = [];
    labels.forEach((label, i) => {
      if (label !== IGNORE_INDEX) out.push(-logp[i]![label]!);
    });
    return out;
  });
}

describe('mlm head', () => {
  afterAll(() => tf.disposeVariables());

  it('creates BERT’s transform and output bias, tied to the word embeddings', () => {
    const { hc, head } = setup();
    expect(head.terms).toEqual({ mlm: 1 });
    const shapes = Object.fromEntries([...hc.variables].filter(([k]) => k.startsWith('mlm/')).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'mlm/transform/kernel': [16, 16],
      'mlm/transform/bias': [16],
      'mlm/transform/gamma': [16],
      'mlm/transform/beta': [16],
      'mlm/output/bias': [corpus.vocabSize],
    });
    hc.dispose();
  });

  it('returns the summed cross-entropy over labelled positions: sum = mean × count, count = counts()', () => {
    const { hc, head } = setup();
    const fc = testForwardContext(T, batch, hc.backbone);
    const out = head.forward(fc);
    const count = head.counts(batch).mlm!;
    const labels = batch.columns.labels as Int32Array;
    expect(count).toBe(labels.filter((x) => x !== IGNORE_INDEX).length);
    expect(count).toBeGreaterThan(6);
    expect(out.sums.mlm!.shape).toEqual([]);
    expect(out.metrics!.accuracy!.count).toBe(count);
    const reference = referenceLosses(hc, fc.hidden(), labels);
    expect(reference.length).toBe(count);
    const mean = reference.reduce((a, b) => a + b, 0) / count;
    expect(out.sums.mlm!.dataSync()[0]).toBeCloseTo(mean * count, 3);
    // Untrained, the loss is about log(vocab).
    expect(mean).toBeGreaterThan(Math.log(corpus.vocabSize) - 1);
    const acc = out.metrics!.accuracy!.sum.dataSync()[0]!;
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(count);
    hc.dispose();
  });

  it('exposes the same logits for any hidden states (fill-mask, export)', () => {
    const { hc, head } = setup();
    const fc = testForwardContext(T, batch, hc.backbone);
    const hidden = fc.hidden();
    const labels = batch.columns.labels as Int32Array;
    const logits = head.logits!(tf.reshape(hidden, [-1, 16]) as unknown as Tensor2D);
    expect(logits.shape).toEqual([batch.size * SEQ, corpus.vocabSize]);
    const logp = tf.logSoftmax(logits as unknown as tf.Tensor2D).arraySync() as number[][];
    const fromLogits = Array.from(labels).flatMap((label, i) => (label === IGNORE_INDEX ? [] : [-logp[i]![label]!]));
    const reference = referenceLosses(hc, hidden, labels);
    fromLogits.forEach((x, i) => expect(x).toBeCloseTo(reference[i]!, 4));
    hc.dispose();
  });

  it('ignored positions contribute nothing: changing their hidden states leaves the loss as it is', () => {
    const { hc, head } = setup();
    const labels = batch.columns.labels as Int32Array;
    const base = hc.backbone.apply({ inputIds: tf.tensor2d(batch.columns.input_ids as Int32Array, [batch.size, SEQ], 'int32') as unknown as Tensor2D }, false);
    const noise = tf.randomNormal([batch.size, SEQ, 16], 0, 3, 'float32', 9);
    const ignoredMask = tf.tensor3d(Float32Array.from(labels, (x) => (x === IGNORE_INDEX ? 1 : 0)), [batch.size, SEQ, 1]);
    const labelledMask = tf.sub(1, ignoredMask);
    const loss = (hidden: Tensor3D) => head.forward(testForwardContext(T, batch, hc.backbone, { hidden: () => hidden })).sums.mlm!.dataSync()[0]!;
    const l0 = loss(base);
    const l1 = loss(tf.add(base, tf.mul(noise, ignoredMask)) as Tensor3D);
    const l2 = loss(tf.add(base, tf.mul(noise, labelledMask)) as Tensor3D);
    expect(l1).toBeCloseTo(l0, 4);
    expect(Math.abs(l2 - l0)).toBeGreaterThan(1e-2);
    hc.dispose();
  });

  it('accumulates exactly: micro-batch sums and counts add up to the full batch, and so do gradients', () => {
    const { hc, head } = setup();
    const params = [...hc.variables.values()];
    const run = (b: Batch) => {
      const { value, grads } = tf.variableGrads(() => head.forward(testForwardContext(T, b, hc.backbone)).sums.mlm! as tf.Scalar, params);
      return { sum: value.dataSync()[0]!, count: head.counts(b).mlm!, grads };
    };
    const full = run(batch);
    const a = run(sliceBatch(batch, 0, 2));
    const b = run(sliceBatch(batch, 2, batch.size));
    expect(a.count + b.count).toBe(full.count);
    expect(a.sum + b.sum).toBeCloseTo(full.sum, 3);
    let compared = 0;
    for (const name of Object.keys(full.grads)) {
      const want = full.grads[name]!.dataSync();
      const got = tf.add(a.grads[name]!, b.grads[name]!).dataSync();
      let err = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        err = Math.max(err, Math.abs(want[i]! - got[i]!));
        scale = Math.max(scale, Math.abs(want[i]!));
      }
      expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      compared++;
    }
    // The head's five parameters, the tied embeddings and the toy backbone all receive gradients.
    expect(compared).toBe(params.length);
    hc.dispose();
  });

  it('gathers rows with the same values and gradient as tf.gather', () => {
    const x = tf.randomNormal([10, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const idx = tf.tensor1d([7, 1, 3, 9], 'int32');
    const w = tf.randomNormal([4, 4], 0, 1, 'float32', 4);
    const f1 = (t: tf.Tensor) => tf.sum(tf.square(tf.matMul(gatherRows(T, t as unknown as Tensor2D, idx) as unknown as tf.Tensor2D, w as tf.Tensor2D)));
    const f2 = (t: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.gather(t, idx) as tf.Tensor2D, w as tf.Tensor2D)));
    expect(Array.from(f1(x).dataSync())[0]).toBeCloseTo(f2(x).dataSync()[0]!, 4);
    const g1 = tf.grad(f1)(x).dataSync();
    const g2 = tf.grad(f2)(x).dataSync();
    expect(Array.from(g1).map((v) => +v.toFixed(4))).toEqual(Array.from(g2).map((v) => +v.toFixed(4)));
  });

  it('keeps the loss connected with zero gradient when a batch predicts nothing', () => {
    const { hc, head } = setup();
    const labels = new Int32Array(batch.size * SEQ).fill(IGNORE_INDEX);
    const empty: Batch = { ...batch, columns: { ...batch.columns, labels } };
    const bias = hc.variables.get('mlm/output/bias')!;
    const { value, grads } = tf.variableGrads(() => head.forward(testForwardContext(T, empty, hc.backbone)).sums.mlm! as tf.Scalar, [bias]);
    expect(value.dataSync()[0]).toBe(0);
    expect(head.counts(empty).mlm).toBe(0);
    expect(Math.max(...Array.from(grads[bias.name]!.dataSync()).map(Math.abs))).toBe(0);
    hc.dispose();
  });
});

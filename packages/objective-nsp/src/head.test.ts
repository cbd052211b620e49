import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, collate, type Batch, type Tensor3D, type TF } from '@pretext/core';
import { loadFixtureCorpus, sliceBatch, streamDocuments, take, testForwardContext, testHeadContext } from '@pretext/objective-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NSP_LABEL, nsp } from './nsp.js';

const T = tf as unknown as TF;
const corpus = loadFixtureCorpus({ vocabWords: 300, maxDocuments: 40 }, import.meta.url);
const SEQ = 32;
let batch: Batch;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const ctx = { seqLen: SEQ, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(5) };
  batch = collate(await take(nsp().examples!(streamDocuments(corpus.documents), ctx), 8));
});
afterAll(() => tf.disposeVariables());

function setup() {
  const hc = testHeadContext(T, { vocabSize: corpus.vocabSize, seqLen: SEQ, dModel: 16, prefix: 'nsp' });
  return { hc, head: nsp().head(hc) };
}

describe('nsp head (pooler + two-way classifier on [CLS])', () => {
  it('has BERT’s pooler and classifier shapes; sum = mean × rows; count = rows', () => {
    const { hc, head } = setup();
    const shapes = Object.fromEntries([...hc.variables].filter(([k]) => k.startsWith('nsp/')).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({ 'nsp/pooler/kernel': [16, 16], 'nsp/pooler/bias': [16], 'nsp/classifier/kernel': [16, 2], 'nsp/classifier/bias': [2] });
    expect(head.terms).toEqual({ nsp: 1 });
    expect(head.counts(batch)).toEqual({ nsp: 8 });
    const fc = testForwardContext(T, batch, hc.backbone);
    const out = head.forward(fc);
    // Reference: mean softmax cross-entropy of the same logits, computed by tf.losses.
    const v = (n: string) => hc.variables.get(`nsp/${n}`)! as unknown as tf.Tensor2D;
    const first = tf.reshape(tf.slice(fc.hidden() as unknown as tf.Tensor3D, [0, 0, 0], [8, 1, 16]), [8, 16]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(first, v('pooler/kernel')), v('pooler/bias'))) as tf.Tensor2D, v('classifier/kernel')), v('classifier/bias'));
    const labels = tf.oneHot(tf.tensor1d(batch.columns[NSP_LABEL] as Int32Array, 'int32'), 2);
    const mean = tf.losses.softmaxCrossEntropy(labels, logits).dataSync()[0]!;
    expect(out.sums.nsp!.shape).toEqual([]);
    expect(out.sums.nsp!.dataSync()[0]).toBeCloseTo(mean * 8, 4);
    expect(out.metrics!.accuracy!.count).toBe(8);
    const predicted = tf.argMax(logits, 1).dataSync();
    const truth = batch.columns[NSP_LABEL]!;
    expect(out.metrics!.accuracy!.sum.dataSync()[0]).toBe(Array.from(predicted).filter((p, i) => p === truth[i]).length);
    hc.dispose();
  });

  it('reads only the [CLS] position', () => {
    const { hc, head } = setup();
    const base = testForwardContext(T, batch, hc.backbone).hidden();
    const mask = tf.concat([tf.zeros([8, 1, 16]), tf.ones([8, SEQ - 1, 16])], 1);
    const loss = (h: Tensor3D) => head.forward(testForwardContext(T, batch, hc.backbone, { hidden: () => h })).sums.nsp!.dataSync()[0]!;
    const noise = tf.randomNormal([8, SEQ, 16], 0, 2, 'float32', 3);
    expect(loss(tf.add(base, tf.mul(noise, mask)) as unknown as Tensor3D)).toBeCloseTo(loss(base), 5);
    expect(Math.abs(loss(tf.add(base, noise) as unknown as Tensor3D) - loss(base))).toBeGreaterThan(1e-4);
    hc.dispose();
  });

  it('accumulates exactly over micro-batches (sums, counts and gradients)', () => {
    const { hc, head } = setup();
    const params = [...hc.variables.values()];
    const run = (b: Batch) => {
      const { value, grads } = tf.variableGrads(() => head.forward(testForwardContext(T, b, hc.backbone)).sums.nsp! as tf.Scalar, params);
      return { sum: value.dataSync()[0]!, count: head.counts(b).nsp!, grads };
    };
    const full = run(batch);
    const a = run(sliceBatch(batch, 0, 3));
    const b = run(sliceBatch(batch, 3, 8));
    expect(a.count + b.count).toBe(full.count);
    expect(a.sum + b.sum).toBeCloseTo(full.sum, 4);
    let worst = 0;
    for (const name of Object.keys(full.grads)) {
      const want = full.grads[name]!.dataSync();
      const got = tf.add(a.grads[name]!, b.grads[name]!).dataSync();
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i]! - got[i]!));
    }
    expect(Object.keys(full.grads).length).toBe(params.length);
    expect(worst).toBeLessThan(1e-5);
    hc.dispose();
  });

  it('refuses a batch without the label column', () => {
    const { hc, head } = setup();
    const { [NSP_LABEL]: _, ...columns } = batch.columns;
    expect(() => head.counts({ ...batch, columns })).toThrow(ConfigError);
    hc.dispose();
  });
});

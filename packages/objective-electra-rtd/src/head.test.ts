import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  IGNORE_INDEX,
  ObjectiveConflictError,
  Rng,
  collate,
  composeObjectives,
  type Batch,
  type Example,
  type TF,
  type TokenizedDocument,
} from '@pretext/core';
import { mlm } from '@pretext/objective-mlm';
import { loadFixtureCorpus, sliceBatch, streamDocuments, take, testForwardContext, testHeadContext } from '@pretext/objective-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electraRtd, type ElectraRtdOptions } from './electra.js';
import type { ElectraHead } from './head.js';

const T = tf as unknown as TF;
const SEQ = 32;
const corpus = loadFixtureCorpus({ vocabWords: 300, maxDocuments: 80 }, import.meta.url);

/**
 * The same real text on a 16-token vocabulary (5 specials + 11 words: id → 5 + id mod 11), so sampling statistics
 * that hinge on 1/V are measurable with a few thousand masked tokens.
 */
const SMALL_V = 16;
const smallDocs: TokenizedDocument[] = corpus.documents.map((d) => ({ ...d, ids: d.ids.map((id) => 5 + (id % (SMALL_V - 5))) }));

async function examplesOf(docs: readonly TokenizedDocument[], vocabSize: number, seed: number, rows: number): Promise<Example[]> {
  const composition = composeObjectives([electraRtd()]);
  const ctx = { seqLen: SEQ, vocabSize, special: corpus.special, rng: new Rng(seed) };
  return take(composition.examples(streamDocuments(docs), ctx), rows);
}
const batchOf = async (docs: readonly TokenizedDocument[], vocabSize: number, seed: number, rows: number): Promise<Batch> =>
  collate(await examplesOf(docs, vocabSize, seed, rows));

function setup(vocabSize: number, options: ElectraRtdOptions = {}, seed = 1) {
  const hc = testHeadContext(T, { vocabSize, seqLen: SEQ, dModel: 32, seed, prefix: 'electra-rtd' });
  const head = electraRtd(options).head(hc) as ElectraHead;
  const param = (name: string) => {
    const v = hc.variables.get(`electra-rtd/${name}`);
    if (!v) throw new RangeError(`no variable electra-rtd/${name}`);
    return v;
  };
  return { hc, head, param };
}

/** Makes the generator's output depend on its bias alone: logits = bias at every masked position. */
function biasOnlyGenerator(param: ReturnType<typeof setup>['param'], bias: Float32Array): void {
  param('generator_predictions/layer_norm/gamma').assign(tf.zerosLike(param('generator_predictions/layer_norm/gamma')));
  param('generator_predictions/layer_norm/beta').assign(tf.zerosLike(param('generator_predictions/layer_norm/beta')));
  param('generator_lm_head/bias').assign(tf.tensor1d(bias));
}

let batch: Batch;
/** Rows with and without padding. */
let padded: Batch;
beforeAll(async () => {
  await tf.setBackend('cpu');
  batch = await batchOf(corpus.documents, corpus.vocabSize, 3, 16);
  const rows = await examplesOf(corpus.documents, corpus.vocabSize, 4, 200);
  const short = rows.filter((e) => e.attention_mask[SEQ - 1] === 0);
  const full = rows.filter((e) => e.attention_mask[SEQ - 1] === 1);
  padded = collate([...short.slice(0, 6), ...full.slice(0, 6)]);
});
afterAll(() => tf.disposeVariables());

describe('electra-rtd head: sampling and labels', () => {
  it('labels a token 1 exactly where it was masked and the sample differs from the original (a correct sample is 0)', () => {
    const { hc, head, param } = setup(corpus.vocabSize);
    // A generator that favours the three most frequent originals reproduces many of them: both cases occur.
    const labels = batch.columns.labels as Int32Array;
    const freq = new Map<number, number>();
    for (const l of labels) if (l !== IGNORE_INDEX) freq.set(l, (freq.get(l) ?? 0) + 1);
    const bias = new Float32Array(corpus.vocabSize);
    for (const [id] of [...freq].sort((a, b) => b[1] - a[1]).slice(0, 3)) bias[id] = 8;
    biasOnlyGenerator(param, bias);
    const inputs = batch.columns.input_ids as Int32Array;
    let reproduced = 0;
    let replaced = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = tf.tidy(() => head.sample(testForwardContext(T, batch, hc.backbone, { seed })).replacement);
      let k = 0;
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] === IGNORE_INDEX) {
          expect(r.fakeIds[i]).toBe(inputs[i]);
          expect(r.replaced[i]).toBe(0);
          continue;
        }
        expect(r.positions[k]).toBe(i);
        expect(r.original[k]).toBe(labels[i]);
        expect(r.fakeIds[i]).toBe(r.sampled[k]);
        expect(r.replaced[i]).toBe(r.sampled[k] !== labels[i] ? 1 : 0);
        if (r.sampled[k] === labels[i]) reproduced++;
        else replaced++;
        k++;
      }
      expect(k).toBe(r.positions.length);
      expect(r.replacedCount).toBe(r.replaced.reduce((s, x) => s + x, 0));
    }
    expect(reproduced).toBeGreaterThan(10);
    expect(replaced).toBeGreaterThan(10);
    hc.dispose();
  });

  it('samples the same replacements for a row in the full batch and in a micro-batch; another seed samples others', () => {
    const { hc, head } = setup(corpus.vocabSize);
    const full = tf.tidy(() => head.sample(testForwardContext(T, batch, hc.backbone, { seed: 9 })).replacement);
    const cut = 5;
    const a = tf.tidy(() => head.sample(testForwardContext(T, sliceBatch(batch, 0, cut), hc.backbone, { seed: 9 })).replacement);
    const b = tf.tidy(() => head.sample(testForwardContext(T, sliceBatch(batch, cut, batch.size), hc.backbone, { seed: 9 })).replacement);
    expect([...a.fakeIds, ...b.fakeIds]).toEqual([...full.fakeIds]);
    const other = tf.tidy(() => head.sample(testForwardContext(T, batch, hc.backbone, { seed: 10 })).replacement);
    expect([...other.sampled]).not.toEqual([...full.sampled]);
    hc.dispose();
  });

  it('with a uniform generator, replaces a masked token with probability 1 − 1/V (within 4 standard errors)', async () => {
    const { hc, head, param } = setup(SMALL_V);
    biasOnlyGenerator(param, new Float32Array(SMALL_V));
    let masked = 0;
    let replaced = 0;
    for (let s = 0; s < 6; s++) {
      const b = await batchOf(smallDocs, SMALL_V, 100 + s, 64);
      const r = tf.tidy(() => head.sample(testForwardContext(T, b, hc.backbone, { seed: s })).replacement);
      masked += r.positions.length;
      replaced += r.replacedCount;
    }
    const p = 1 - 1 / SMALL_V;
    const se = Math.sqrt((p * (1 - p)) / masked);
    expect(masked).toBeGreaterThan(1500);
    expect(Math.abs(replaced / masked - p)).toBeLessThanOrEqual(4 * se);
    hc.dispose();
  });

  it('samples softmax(logits / temperature): a skewed generator at temperature 2 matches its distribution', async () => {
    const temperature = 2;
    const { hc, head, param } = setup(SMALL_V, { temperature });
    // q ∝ 1/(rank + 1)², given as logits = temperature · log q, so logits / temperature = log q.
    const q = Float64Array.from({ length: SMALL_V }, (_, i) => 1 / (((i * 7) % SMALL_V) + 1) ** 2);
    const z = q.reduce((s, x) => s + x, 0);
    for (let i = 0; i < SMALL_V; i++) q[i]! /= z;
    biasOnlyGenerator(param, Float32Array.from(q, (x) => temperature * Math.log(x)));
    let masked = 0;
    let replaced = 0;
    let expected = 0;
    let variance = 0;
    const sampledCounts = new Float64Array(SMALL_V);
    for (let s = 0; s < 6; s++) {
      const b = await batchOf(smallDocs, SMALL_V, 200 + s, 64);
      const r = tf.tidy(() => head.sample(testForwardContext(T, b, hc.backbone, { seed: s })).replacement);
      masked += r.positions.length;
      replaced += r.replacedCount;
      for (const o of r.original) {
        expected += 1 - q[o]!;
        variance += q[o]! * (1 - q[o]!);
      }
      for (const t of r.sampled) sampledCounts[t]!++;
    }
    expect(Math.abs(replaced - expected)).toBeLessThanOrEqual(4 * Math.sqrt(variance));
    // The most likely token (id 0: q ≈ 0.62) is drawn at its rate.
    expect(Math.abs(sampledCounts[0]! / masked - q[0]!)).toBeLessThanOrEqual(4 * Math.sqrt((q[0]! * (1 - q[0]!)) / masked));
    hc.dispose();
  });
});

describe('electra-rtd head: losses and gradients', () => {
  it('sums binary cross-entropy over every non-padding token, [CLS] and [SEP] included, with count Σ attention_mask', () => {
    const { hc, head, param } = setup(corpus.vocabSize);
    const nonPad = (padded.columns.attention_mask as Uint8Array).reduce((s, x) => s + x, 0);
    expect(head.counts(padded)).toEqual({
      generator: (padded.columns.labels as Int32Array).filter((x) => x !== IGNORE_INDEX).length,
      discriminator: nonPad,
    });
    expect(nonPad).toBeLessThan(padded.size * SEQ); // the batch has padding to leave out
    // A constant discriminator logit b: each token costs softplus(b) − b·label.
    param('discriminator_predictions/dense_prediction/kernel').assign(tf.zeros([32, 1]));
    for (const b of [3, -3]) {
      param('discriminator_predictions/dense_prediction/bias').assign(tf.tensor1d([b]));
      const fc = testForwardContext(T, padded, hc.backbone, { seed: 4 });
      const { replacedCount } = tf.tidy(() => head.sample(fc).replacement);
      const out = head.forward(testForwardContext(T, padded, hc.backbone, { seed: 4 }));
      const want = nonPad * Math.log1p(Math.exp(b)) - b * replacedCount;
      expect(out.sums.discriminator!.dataSync()[0]).toBeCloseTo(want, 1);
      const acc = out.metrics!.detection_accuracy!;
      expect(acc.count).toBe(nonPad);
      // Predicting "replaced" everywhere is right on the replaced tokens; "original" everywhere on the rest.
      expect(acc.sum.dataSync()[0]).toBe(b > 0 ? replacedCount : nonPad - replacedCount);
      expect(out.metrics!.replaced!.sum.dataSync()[0]).toBe(replacedCount);
      expect(out.metrics!.replaced!.count).toBe(nonPad);
      expect(out.metrics!.detection_recall!.count).toBe(replacedCount);
      expect(replacedCount).toBeGreaterThan(0);
    }
    hc.dispose();
  });

  it('the discriminator loss has no gradient on generator-only parameters; it reaches the generator only through the shared embeddings', () => {
    const { hc, head } = setup(corpus.vocabSize);
    const names = [...hc.variables.keys()];
    const params = [...hc.variables.values()];
    const byVar = new Map(params.map((v, i) => [v.name, names[i]!]));
    const gradsOf = (term: 'generator' | 'discriminator') => {
      const { grads } = tf.variableGrads(() => head.forward(testForwardContext(T, batch, hc.backbone, { seed: 2 })).sums[term]! as tf.Scalar, params);
      const out = new Map<string, number>();
      for (const [k, g] of Object.entries(grads)) out.set(byVar.get(k)!, Math.max(...Array.from(g.dataSync()).map(Math.abs)));
      return out;
    };
    const generatorOnly = names.filter((n) => /^electra-rtd\/generator/.test(n));
    expect(generatorOnly.length).toBeGreaterThanOrEqual(8); // the generator backbone and its MLM head
    const disc = gradsOf('discriminator');
    for (const n of generatorOnly) expect(disc.get(n) ?? 0, n).toBe(0);
    expect(disc.get('backbone/word_embeddings')!).toBeGreaterThan(0);
    expect(disc.get('electra-rtd/discriminator_predictions/dense/kernel')!).toBeGreaterThan(0);
    const gen = gradsOf('generator');
    for (const n of generatorOnly) expect(gen.get(n) ?? 0, n).toBeGreaterThan(0);
    expect(gen.get('backbone/word_embeddings')!).toBeGreaterThan(0);
    for (const n of names.filter((x) => x.startsWith('electra-rtd/discriminator'))) expect(gen.get(n) ?? 0, n).toBe(0);
    hc.dispose();
  });

  it('weighs the terms 1 and 50 by default, and as configured', () => {
    expect(setup(corpus.vocabSize).head.terms).toEqual({ generator: 1, discriminator: 50 });
    expect(setup(corpus.vocabSize, { generatorWeight: 2, discriminatorWeight: 10 }).head.terms).toEqual({ generator: 2, discriminator: 10 });
  });

  it('builds a generator of the configured width', () => {
    expect(setup(corpus.vocabSize).head.generator.dModel).toBe(8);
    expect(setup(corpus.vocabSize, { generatorWidth: 0.5 }).head.generator.dModel).toBe(16);
  });
});

describe('electra-rtd options and composition', () => {
  it('rejects bad options with a ConfigError naming the option', () => {
    expect(() => electraRtd({ temperature: 0 })).toThrow(ConfigError);
    expect(() => electraRtd({ generatorWidth: 1.5 })).toThrow(/electra-rtd\.generatorWidth/);
    expect(() => electraRtd({ discriminatorWeight: -1 })).toThrow(/electra-rtd\.discriminatorWeight/);
    expect(() => electraRtd({ probability: 0 })).toThrow(/electra-rtd\.probability/);
  });

  it('refuses to train next to mlm, and records its resolved options', () => {
    expect(() => composeObjectives([electraRtd(), mlm()])).toThrow(ObjectiveConflictError);
    expect(() => composeObjectives([electraRtd(), mlm()])).toThrow(/masked-LM generator/);
    expect(electraRtd().options).toMatchObject({ probability: 0.15, maskReplace: 0.85, generatorWidth: 0.25, temperature: 1, generatorWeight: 1, discriminatorWeight: 50 });
  });
});

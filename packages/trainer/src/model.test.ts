import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type TF, type Tensor2D } from '@pretext/core';
import { BYTE_VOCAB, bookDocuments } from '@pretext/test-fixtures';
import { selectBackend } from './backend.js';
import { DropoutSeeds, MODEL_PRESETS, ParameterStore, buildBackbone, buildExtraBackbone, resolveModelConfig, type ModelConfig } from './model.js';
import { createOps } from './ops.js';

let tf: TF;
beforeAll(async () => {
  tf = (await selectBackend({ backend: 'wasm' })).tf;
});

// Real token ids: the first 16 bytes of each of a book's first paragraphs.
const rows = bookDocuments('gutenberg/markovify/sherlock.txt', 40)
  .filter((d) => d.ids.length >= 16)
  .slice(0, 2)
  .map((d) => d.ids.slice(0, 16));

function build(config: ModelConfig) {
  const ops = createOps(tf, 'wasm');
  const store = new ParameterStore(ops, 5);
  const seeds = new DropoutSeeds();
  const backbone = buildBackbone(ops, store, resolveModelConfig(config, config.architecture), BYTE_VOCAB, seeds);
  return { ops, store, seeds, backbone };
}

const encoder: ModelConfig = { architecture: 'encoder', dModel: 32, nLayers: 2, nHeads: 2, dFF: 64, maxPositions: 16, dropout: 0 };
const decoder: ModelConfig = { ...encoder, architecture: 'decoder' };

function run(b: ReturnType<typeof build>['backbone'], ids: Int32Array[], extra: { mask?: number[][]; types?: number[][] } = {}): Float32Array {
  return tf.tidy(() => {
    const inputIds = tf.tensor2d(ids.map((r) => [...r]), [ids.length, 16], 'int32') as Tensor2D;
    const attentionMask = extra.mask ? (tf.tensor2d(extra.mask, [ids.length, 16], 'int32') as Tensor2D) : undefined;
    const tokenTypeIds = extra.types ? (tf.tensor2d(extra.types, [ids.length, 16], 'int32') as Tensor2D) : undefined;
    return b.apply({ inputIds, ...(attentionMask ? { attentionMask } : {}), ...(tokenTypeIds ? { tokenTypeIds } : {}) }, false).dataSync() as Float32Array;
  });
}

function maxDiffAt(a: Float32Array, b: Float32Array, positions: number[], d = 32): number {
  let m = 0;
  for (const p of positions) for (let k = 0; k < d; k++) m = Math.max(m, Math.abs(a[p * d + k]! - b[p * d + k]!));
  return m;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('transformer backbones', () => {
  it('an encoder is bidirectional, and padding (attention_mask 0) never reaches real tokens', () => {
    const { backbone, store } = build(encoder);
    const ids = rows[0]!;
    const base = run(backbone, [ids]);
    const changedLast = Int32Array.from(ids);
    changedLast[15] = (changedLast[15]! + 1) % 256;
    expect(maxDiffAt(base, run(backbone, [changedLast]), [0])).toBeGreaterThan(1e-4); // sees the future
    const mask = [range(0, 16).map((i) => (i < 10 ? 1 : 0))];
    const padded = run(backbone, [ids], { mask });
    const repadded = run(backbone, [Int32Array.from(ids, (t, i) => (i < 10 ? t : 0))], { mask });
    expect(maxDiffAt(padded, repadded, range(0, 10))).toBe(0);
    // Post-LN (BERT) by default: an embedding LayerNorm and no final one.
    expect(store.params.has('backbone/emb_ln/gamma')).toBe(true);
    expect(store.params.has('backbone/ln_f/gamma')).toBe(false);
    expect(store.params.has('backbone/wtt')).toBe(true);
    store.dispose();
  });

  it('segment ids change an encoder’s output; a decoder is causal and pre-LN', () => {
    const enc = build(encoder);
    const ids = rows[1]!;
    const a = run(enc.backbone, [ids], { types: [range(0, 16).map(() => 0)] });
    const b = run(enc.backbone, [ids], { types: [range(0, 16).map((i) => (i < 8 ? 0 : 1))] });
    expect(maxDiffAt(a, b, range(8, 16))).toBeGreaterThan(1e-4);
    enc.store.dispose();
    const dec = build(decoder);
    const base = run(dec.backbone, [ids]);
    const changed = Int32Array.from(ids);
    changed[10] = (changed[10]! + 1) % 256;
    const after = run(dec.backbone, [changed]);
    expect(maxDiffAt(base, after, range(0, 10))).toBe(0);
    expect(maxDiffAt(base, after, range(10, 16))).toBeGreaterThan(1e-4);
    expect(dec.store.params.has('backbone/ln_f/gamma')).toBe(true);
    expect(dec.store.params.has('backbone/wtt')).toBe(false);
    dec.store.dispose();
  });

  it('an extra backbone (ELECTRA generator) shares the embedding tables through a projection and trains them', () => {
    const { ops, store, seeds, backbone } = build({ ...encoder, dModel: 64, nHeads: 4, dFF: 128 });
    const generator = buildExtraBackbone(ops, store, backbone, 'electra/generator', 0.25, seeds);
    expect(generator.dModel).toBe(16);
    expect(generator.shape.nHeads).toBe(1);
    expect(generator.shape.nLayers).toBe(2);
    expect(generator.embeddings.word).toBe(backbone.embeddings.word);
    expect(store.get('electra/generator/emb_proj/kernel').shape).toEqual([64, 16]);
    expect([...store.params.keys()].some((k) => k.startsWith('electra/generator/') && k.includes('wte'))).toBe(false);
    const ids = tf.tensor2d([[...rows[0]!]], [1, 16], 'int32') as Tensor2D;
    const wte = backbone.embeddings.word;
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(generator.apply({ inputIds: ids }, true))) as never, [wte, store.get('electra/generator/emb_proj/kernel')]);
    expect(Math.max(...(grads[wte.name]!.abs().dataSync() as Float32Array))).toBeGreaterThan(0);
    expect(() => buildExtraBackbone(ops, store, backbone, 'x/g', 1.5, seeds)).toThrow(ConfigError);
    store.dispose();
  });

  it('gradients of a whole encoder and decoder on wasm match central finite differences', () => {
    // The fast ops (matMul without transposes, scatterND embedding gradient, hand-written LayerNorm and GELU)
    // are checked one by one in ops.test.ts; this checks them composed, with masks and segments, end to end.
    for (const architecture of ['encoder', 'decoder'] as const) {
      const config: ModelConfig = { architecture, dModel: 16, nLayers: 2, nHeads: 2, dFF: 32, maxPositions: 8, dropout: 0, initializerRange: 0.3 };
      const ops = createOps(tf, 'wasm');
      const store = new ParameterStore(ops, 9);
      const backbone = buildBackbone(ops, store, resolveModelConfig(config, architecture), 256, new DropoutSeeds());
      const ids = tf.tensor2d([...rows[0]!.slice(0, 8), ...rows[1]!.slice(0, 8)], [2, 8], 'int32') as Tensor2D;
      const attentionMask = tf.tensor2d([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [2, 8], 'int32') as Tensor2D;
      const tokenTypeIds = tf.tensor2d([0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1], [2, 8], 'int32') as Tensor2D;
      const weights = tf.randomNormal([2, 8, 16], 0, 1, 'float32', 1);
      const loss = () => tf.sum(tf.mul(backbone.apply({ inputIds: ids, attentionMask, ...(architecture === 'encoder' ? { tokenTypeIds } : {}) }, true), weights)) as never;
      const checked = [...store.params.values()];
      const { grads } = tf.variableGrads(loss, checked.map((p) => p.variable));
      for (const p of checked) {
        const g = grads[p.variable.name]!.dataSync();
        const base = Float32Array.from(p.variable.dataSync());
        // Entries that receive gradient: the rows of the ids used, for embedding tables.
        const flatIds = [...ids.dataSync()];
        const candidates = p.name.endsWith('wte') ? flatIds.map((id) => id * 16 + (id % 16)) : [3, 17, 40, base.length - 1].map((i) => i % base.length);
        for (const i of candidates.slice(0, 4)) {
          const at = (delta: number) => {
            const v = Float32Array.from(base);
            v[i] = v[i]! + delta;
            p.variable.assign(tf.tensor(v, p.variable.shape));
            return (loss() as unknown as { dataSync(): Float32Array }).dataSync()[0]!;
          };
          const numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
          p.variable.assign(tf.tensor(base, p.variable.shape));
          expect(Math.abs(numeric - g[i]!), `${architecture} ${p.name}[${i}]: analytic ${g[i]} numeric ${numeric}`).toBeLessThan(5e-3 * Math.max(1, Math.abs(numeric)));
        }
      }
      store.dispose();
    }
  });

  it('resolves presets and refuses inconsistent shapes', () => {
    for (const name of ['gpt-nano', 'gpt-small', 'gpt-demo', 'bert-tiny', 'bert-mini', 'bert-small', 'electra-small']) expect(MODEL_PRESETS[name]).toBeDefined();
    expect(resolveModelConfig('bert-tiny', 'encoder').preLayerNorm).toBe(false);
    expect(resolveModelConfig('gpt-demo', 'decoder').preLayerNorm).toBe(true);
    expect(() => resolveModelConfig('gpt-huge', 'decoder')).toThrow(/gpt-demo/);
    expect(() => resolveModelConfig({ ...decoder, nHeads: 3 }, 'decoder')).toThrow(/divisor of dModel=32/);
    expect(() => resolveModelConfig('bert-tiny', 'decoder')).toThrow(ConfigError);
    expect(resolveModelConfig('bert-tiny', 'encoder').initializerRange).toBe(0.02);
    expect(() => resolveModelConfig({ ...encoder, initializerRange: 0 }, 'encoder')).toThrow(/initializerRange/);
  });
});

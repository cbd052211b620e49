import { beforeAll, describe, expect, it } from 'vitest';
import type { TF, Tensor } from '@pretext/core';
import { selectBackend } from './backend.js';
import { createOps, type Ops } from './ops.js';
import { maxDiff, weightedGrads } from './tensors.test-helper.js';

let tf: TF;
let ops: Ops;
beforeAll(async () => {
  tf = (await selectBackend({ backend: 'wasm' })).tf;
  ops = createOps(tf, 'wasm');
});

const grads = (f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor[] => weightedGrads(tf, f, inputs);

describe('backend-tuned ops', () => {
  it('matMul (2-D and single-matrix products without transposed kernels, batched ones with them) has the same values and gradients as tf.matMul', () => {
    for (const [ta, tb, shapeA, shapeB] of [
      [false, false, [5, 7], [7, 3]],
      [false, true, [5, 7], [3, 7]],
      [true, false, [7, 5], [7, 3]],
      [false, false, [4, 5, 7], [4, 7, 3]],
      [false, true, [4, 5, 7], [4, 3, 7]],
      [true, false, [4, 7, 5], [4, 7, 3]],
      [false, true, [1, 5, 7], [1, 3, 7]],
    ] as const) {
      const a = tf.randomNormal([...shapeA], 0, 1, 'float32', 1);
      const b = tf.randomNormal([...shapeB], 0, 1, 'float32', 2);
      expect(maxDiff(ops.matMul(a, b, ta, tb), tf.matMul(a, b, ta, tb))).toBeLessThan(1e-5);
      const fast = grads((x, y) => ops.matMul(x!, y!, ta, tb), [a, b]);
      const ref = grads((x, y) => tf.matMul(x!, y!, ta, tb), [a, b]);
      expect(maxDiff(fast[0]!, ref[0]!)).toBeLessThan(1e-4);
      expect(maxDiff(fast[1]!, ref[1]!)).toBeLessThan(1e-4);
    }
  });

  it('embedding gradient through scatterND sums repeated ids like a one-hot matMul', () => {
    const table = tf.randomNormal([11, 6], 0, 1, 'float32', 3);
    const ids = tf.tensor2d([[1, 4, 4, 0], [4, 10, 1, 1]], [2, 4], 'int32');
    const out = ops.embed(table, ids);
    expect(out.shape).toEqual([2, 4, 6]);
    const oneHot = (t: Tensor) => tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), 11), t), [2, 4, 6]);
    expect(maxDiff(out, oneHot(table))).toBeLessThan(1e-6);
    const [g] = grads((t) => ops.embed(t!, ids), [table]);
    const [ref] = grads((t) => oneHot(t!), [table]);
    expect(maxDiff(g!, ref!)).toBeLessThan(1e-5);
  });

  // On wasm both run in heap-kernels.wat; createOps for 'cpu' (on the same wasm tensors) takes the tf-ops path.
  it.each(['wasm', 'cpu'] as const)('layerNorm and GELU with hand-written gradients match autodiff of their formulas (%s path)', async (path) => {
    const o = createOps(tf, path);
    // Which path ran: the tf-ops forward passes run tfjs' Mean and Sigmoid kernels, the heap kernels none.
    const probe = tf.randomNormal([4, 8]);
    const kernels = (await tf.profile(() => [o.layerNorm(probe, tf.ones([8]), tf.zeros([8])), o.gelu(probe)])).kernels.map((k) => k.name);
    expect(kernels.includes('Mean') || kernels.includes('Sigmoid')).toBe(path === 'cpu');
    const refLn = (xi: Tensor, g: Tensor, b: Tensor) => {
      const { mean, variance } = tf.moments(xi, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    // Widths with and without a remainder of 4 (the kernel's vector width), and a rank-3 input.
    for (const shape of [[6, 16], [5, 13], [2, 3, 256]]) {
      const d = shape[shape.length - 1]!;
      const x = tf.randomNormal(shape, 0.5, 2, 'float32', 4);
      const gamma = tf.randomNormal([d], 1, 0.1, 'float32', 5);
      const beta = tf.randomNormal([d], 0, 0.1, 'float32', 6);
      expect(maxDiff(o.layerNorm(x, gamma, beta), refLn(x, gamma, beta))).toBeLessThan(1e-5);
      const fast = grads((a, b, c) => o.layerNorm(a!, b!, c!), [x, gamma, beta]);
      const ref = grads((a, b, c) => refLn(a!, b!, c!), [x, gamma, beta]);
      for (let i = 0; i < 3; i++) expect(maxDiff(fast[i]!, ref[i]!)).toBeLessThan(1e-4);
    }
    const refGelu = (t: Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(t, tf.mul(0.044715, tf.pow(t, 3)))))));
    const x = tf.randomNormal([6, 16], 0.5, 2, 'float32', 4);
    expect(maxDiff(o.gelu(x), refGelu(x))).toBeLessThan(1e-5);
    expect(maxDiff(grads((t) => o.gelu(t!), [x])[0]!, grads((t) => refGelu(t!), [x])[0]!)).toBeLessThan(1e-4);
    // x·σ(2u) equals 0.5x(1 + tanh u) into the tails too, where σ saturates and the kernel's e^x is clamped (values
    // and gradients); 97 values are not a multiple of 4, so on wasm that size takes the tf-ops path.
    for (const n of [96, 97]) {
      const tails = tf.linspace(-40, 40, n);
      expect(maxDiff(o.gelu(tails), refGelu(tails))).toBeLessThan(1e-5);
      expect(maxDiff(grads((t) => o.gelu(t!), [tails])[0]!, grads((t) => refGelu(t!), [tails])[0]!)).toBeLessThan(1e-4);
    }
  });

  it('bias add sums its gradient with a matMul and matches tf.add', () => {
    const x = tf.randomNormal([2, 5, 7], 0, 1, 'float32', 8);
    const b = tf.randomNormal([7], 0, 1, 'float32', 9);
    const add = ops.objectiveTf.add;
    expect(maxDiff(add(x, b), tf.add(x, b))).toBeLessThan(1e-6);
    const fast = grads((a, c) => add(a!, c!), [x, b]);
    const ref = grads((a, c) => tf.add(a!, c!), [x, b]);
    expect(maxDiff(fast[0]!, ref[0]!)).toBeLessThan(1e-6);
    expect(maxDiff(fast[1]!, ref[1]!)).toBeLessThan(1e-5);
  });

  it('hands objectives a tf whose matMul and gather are the fast ones and everything else is tfjs', () => {
    expect(ops.objectiveTf.matMul).toBe(ops.matMul);
    expect(ops.objectiveTf.softmax).toBe(tf.softmax);
    const table = tf.randomNormal([5, 3]);
    const ids = tf.tensor1d([0, 4, 4], 'int32');
    expect(maxDiff(ops.objectiveTf.gather(table, ids), tf.gather(table, ids))).toBe(0);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import type { TF } from '@pretext/core';
import { selectBackend } from './backend.js';
import { AdamW } from './optimizer.js';

let tf: TF;
beforeAll(async () => {
  tf = (await selectBackend({ backend: 'wasm' })).tf;
});

/** PyTorch's AdamW written out in float64, the reference. */
function reference(p: number[], grads: number[][], lrs: number[], decay: number, o = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, s) => {
    const t = s + 1;
    const lr = lrs[s]!;
    for (let i = 0; i < x.length; i++) {
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!;
      v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g[i]! ** 2;
      const mHat = m[i]! / (1 - o.beta1 ** t);
      const vHat = v[i]! / (1 - o.beta2 ** t);
      x[i] = x[i]! * (1 - lr * decay) - (lr * mHat) / (Math.sqrt(vHat) + o.epsilon);
    }
  });
  return x;
}

describe('AdamW', () => {
  it('follows PyTorch\'s AdamW, decaying only parameters marked for decay, and skips parameters without a gradient', () => {
    const kernel = [0.5, -1.25, 2, 0.01, -0.3, 0.75];
    const bias = [0.1, -0.2, 0.3];
    const params = [
      { name: 'w', variable: tf.variable(tf.tensor2d(kernel, [2, 3])), decay: true },
      { name: 'b', variable: tf.variable(tf.tensor1d(bias)), decay: false },
      { name: 'unused', variable: tf.variable(tf.tensor1d([7, 8])), decay: true },
    ];
    const optimizer = new AdamW(tf, params, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
    const gw = [[0.3, -0.1, 0.05, 2, -3, 0.001], [-0.2, 0.4, 0, 1, 1, -0.5], [1e-4, -2e-4, 0.9, -0.9, 0.1, 0.2]];
    const gb = [[1, -1, 0.5], [0.25, 0.5, -0.75], [0, 0, 3]];
    const lrs = [1e-2, 5e-2, 2e-2];
    const tensors = tf.memory().numTensors;
    for (let s = 0; s < 3; s++) {
      const grads = new Map([
        ['w', tf.tensor2d(gw[s]!, [2, 3])],
        ['b', tf.tensor1d(gb[s]!)],
      ]);
      optimizer.apply(grads, lrs[s]!);
      for (const g of grads.values()) g.dispose();
    }
    // No tensor is left behind by the updates.
    expect(tf.memory().numTensors).toBe(tensors);
    const close = (actual: Float32Array, expected: number[]) => expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 6));
    close(params[0]!.variable.dataSync() as Float32Array, reference(kernel, gw, lrs, 0.1));
    close(params[1]!.variable.dataSync() as Float32Array, reference(bias, gb, lrs, 0));
    expect(Array.from(params[2]!.variable.dataSync())).toEqual([7, 8]);
    expect(optimizer.step).toBe(3);
    // The moments are the optimizer's state (checkpoints save them).
    // b[2]'s gradients 0.5, −0.75, 3: m = 0.05, then 0.9·0.05 − 0.075 = −0.03, then 0.9·(−0.03) + 0.3 = 0.273.
    expect(optimizer.m.get('b')!.dataSync()[2]).toBeCloseTo(0.273, 6);
    optimizer.dispose();
    tf.dispose(params.map((p) => p.variable));
  });

  it('updates a weight that a matMul has already used, so the next product sees the new values', () => {
    // tfjs-wasm caches XNNPACK operators with packed weights by tensor id: an update that wrote into the weight's
    // memory in place would leave the product using the old values.
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const x = tf.tensor2d([1, 1], [1, 2]);
    expect(Array.from(tf.matMul(x, w).dataSync())).toEqual([4, 6]);
    const optimizer = new AdamW(tf, [{ name: 'w', variable: w, decay: false }], { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    optimizer.apply(new Map([['w', tf.ones([2, 2])]]), 1);
    // The first step moves every weight by lr (m̂/√v̂ = 1 for a constant gradient).
    const after = Array.from(tf.matMul(x, w).dataSync());
    expect(after[0]).toBeCloseTo(2, 5);
    expect(after[1]).toBeCloseTo(4, 5);
    optimizer.dispose();
  });

  it('gives bit-identical parameters and moments with the fused wasm kernel and with tf ops', () => {
    // Shapes with and without a remainder of 4 (the kernel's vector width); decay on one parameter only.
    const make = () => [
      { name: 'w', variable: tf.variable(tf.randomNormal([8, 16], 0, 1, 'float32', 21)), decay: true },
      { name: 'b', variable: tf.variable(tf.randomNormal([37], 0, 1, 'float32', 22)), decay: false },
    ];
    const fusedParams = make();
    const plainParams = make();
    const options = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 };
    const fused = new AdamW(tf, fusedParams, options);
    const plain = new AdamW(tf, plainParams, options);
    expect((fused as unknown as { fused: unknown }).fused).not.toBeNull();
    (plain as unknown as { fused: null }).fused = null;
    for (let s = 0; s < 4; s++) {
      const grads = () => new Map([
        ['w', tf.randomNormal([8, 16], 0, 1, 'float32', 30 + s)],
        ['b', tf.randomNormal([37], 0, 1e-3, 'float32', 40 + s)],
      ]);
      const lr = 3e-3 * (s + 1);
      const g1 = grads();
      const g2 = grads();
      // A clipping factor on some steps: the kernel scales inside the update, the tf path with tf.mul first.
      const scale = s % 2 ? 0.37 : 1;
      fused.apply(g1, lr, scale);
      plain.apply(g2, lr, scale);
      tf.dispose([...g1.values(), ...g2.values()]);
    }
    for (const name of ['w', 'b']) {
      const i = name === 'w' ? 0 : 1;
      expect(Array.from(fusedParams[i]!.variable.dataSync())).toEqual(Array.from(plainParams[i]!.variable.dataSync()));
      expect(Array.from(fused.m.get(name)!.dataSync())).toEqual(Array.from(plain.m.get(name)!.dataSync()));
      expect(Array.from(fused.v.get(name)!.dataSync())).toEqual(Array.from(plain.v.get(name)!.dataSync()));
    }
    fused.dispose();
    plain.dispose();
    tf.dispose([...fusedParams, ...plainParams].map((p) => p.variable));
  });
});

import { expect } from 'vitest';
import type { TF, Tensor } from '@pretext/core';

/** Largest absolute difference between two tensors of the same size. */
export function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Gradients of sum(f(inputs) · w) for a fixed random w, so every output element matters. */
export function weightedGrads(tf: TF, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor[] {
  return tf.tidy(() => {
    const w = tf.randomNormal(f(...inputs).shape, 0, 1, 'float32', 5);
    return tf.grads((...xs: Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
  });
}

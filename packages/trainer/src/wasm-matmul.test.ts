import { beforeAll, describe, expect, it } from 'vitest';
import type { TF } from '@pretext/core';
import { selectBackend } from './backend.js';
import { maxDiff, weightedGrads } from './tensors.test-helper.js';
import { swapLastPerm, wasmBatchedMatMul, wasmSwapLast } from './wasm-matmul.js';

let tf: TF;
beforeAll(async () => {
  tf = (await selectBackend({ backend: 'wasm' })).tf;
});

describe('wasm batched matMul on heap views', () => {
  it('gives tf.matMul\'s values and gradients for rank-3 and rank-4 batches', () => {
    const batched = wasmBatchedMatMul(tf);
    expect(batched).not.toBeNull();
    for (const [shapeA, shapeB] of [
      [[4, 5, 7], [4, 7, 3]],
      [[2, 3, 9, 5], [2, 3, 5, 4]],
    ] as const) {
      const a = tf.randomNormal([...shapeA], 0, 1, 'float32', 11);
      const b = tf.randomNormal([...shapeB], 0, 1, 'float32', 12);
      const out = batched!(a, b);
      expect(out.shape).toEqual([...shapeA.slice(0, -1), shapeB[shapeB.length - 1]!]);
      expect(maxDiff(out, tf.matMul(a, b))).toBeLessThan(1e-5);
      const fast = weightedGrads(tf, (x, y) => batched!(x!, y!), [a, b]);
      const ref = weightedGrads(tf, (x, y) => tf.matMul(x!, y!), [a, b]);
      expect(maxDiff(fast[0]!, ref[0]!)).toBeLessThan(1e-4);
      expect(maxDiff(fast[1]!, ref[1]!)).toBeLessThan(1e-4);
    }
  });

  it('leaks no tensor and no heap memory', () => {
    const batched = wasmBatchedMatMul(tf)!;
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    // Each view is unregistered after its product, which also drops XNNPACK's packed copy of the weights
    // (256 KiB per matrix here): 100 products of 8 matrices would add 200 MiB to the heap if that leaked.
    const big = tf.randomNormal([8, 64, 256]);
    const weights = tf.randomNormal([8, 256, 256]);
    tf.dispose(batched(big, weights));
    const heap = heapBytes();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(batched(big, weights));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(heapBytes()).toBe(heap);
  });
});

describe('wasm transpose of the last two axes', () => {
  it('gives tf.transpose\'s values and gradient, with rows not a multiple of the 4-row unroll', () => {
    const swap = wasmSwapLast(tf);
    expect(swap).not.toBeNull();
    // Whole 16 × 16 tiles, partial tiles, 4 × 4 blocks with scalar edges on either side, and matrices too small for one.
    for (const shape of [[7, 5], [2048, 33], [3, 6, 9], [2, 2, 5, 18], [64, 48], [33, 20], [4, 4], [17, 256], [3, 1, 8], [2, 3, 2]]) {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 5);
      const out = swap!(x);
      const ref = tf.transpose(x, swapLastPerm(shape.length));
      expect(out.shape).toEqual(ref.shape);
      expect(maxDiff(out, ref)).toBe(0);
      const [fast] = weightedGrads(tf, (t) => swap!(t!), [x]);
      const [slow] = weightedGrads(tf, (t) => tf.transpose(t!, swapLastPerm(shape.length)), [x]);
      expect(maxDiff(fast!, slow!)).toBe(0);
      tf.dispose([x, out, ref, fast!, slow!]);
    }
    // Other dtypes go through tf.transpose.
    expect(Array.from(swap!(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')).dataSync())).toEqual([1, 2, 3]);
  });

  it('leaks no tensor', () => {
    const swap = wasmSwapLast(tf)!;
    const x = tf.randomNormal([256, 64]);
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) tf.dispose(swap(x));
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import type { TF } from '@pretext/core';
import { selectBackend } from './backend.js';
import { maxDiff, weightedGrads } from './tensors.test-helper.js';
import { wasmBatchedMatMul } from './wasm-matmul.js';

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

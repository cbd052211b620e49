import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TF, Tensor } from '@pretext/core';
import { compileHeapKernels, heapKernelsModuleSource } from '../scripts/compile-heap-kernels.js';
import { selectBackend } from './backend.js';
import { shareWasmIdentity, wasmColumnSums, wasmGatherRows } from './heap-kernels.js';

let tf: TF;
beforeAll(async () => {
  tf = (await selectBackend({ backend: 'wasm' })).tf;
});

describe('heap kernels', () => {
  it('ship the binary compiled from heap-kernels.wat', async () => {
    const wat = await readFile(new URL('./heap-kernels.wat', import.meta.url), 'utf8');
    const generated = await readFile(new URL('./heap-kernels.bytes.ts', import.meta.url), 'utf8');
    // Regenerate with `npx tsx scripts/build-heap-kernels.ts` after editing the .wat.
    expect(generated).toBe(heapKernelsModuleSource(await compileHeapKernels(wat)));
  });

  it('sum columns like a float64 reference, for any row count and width', () => {
    const sums = wasmColumnSums(tf);
    expect(sums).not.toBeNull();
    // Rows and widths with and without remainders of 4 (the kernel adds four rows and four columns at a time).
    for (const shape of [[1, 1], [3, 5], [4, 4], [7, 13], [2048, 256], [2, 64, 9], [1000, 8192]]) {
      const x = tf.randomNormal(shape, 0.5, 1, 'float32', 3);
      const out = sums!(x);
      const width = shape[shape.length - 1]!;
      expect(out.shape).toEqual([width]);
      const v = x.dataSync();
      const got = out.dataSync();
      const rows = v.length / width;
      for (let j = 0; j < width; j++) {
        let ref = 0;
        for (let i = 0; i < rows; i++) ref += v[i * width + j]!;
        // float32 accumulation over up to 2048 rows: relative to the sum of magnitudes, well under 1e-5.
        expect(Math.abs(got[j]! - ref)).toBeLessThan(1e-5 * rows + 1e-6);
      }
      tf.dispose([x, out]);
    }
  });

  it('overwrite whatever the output memory held and leak no tensor', () => {
    const sums = wasmColumnSums(tf)!;
    const before = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) {
      // Freed memory is reused for the next output, so stale values would show up as wrong sums.
      const x = tf.fill([6, 10], k);
      const out = sums(x);
      expect([...out.dataSync()]).toEqual(new Array(10).fill(6 * k));
      tf.dispose([x, out]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('share memory between a tensor and its Identity clone, kept alive by a reference count', () => {
    expect(shareWasmIdentity(tf)).toBe(true);
    expect(shareWasmIdentity(tf)).toBe(true);
    const x = tf.tensor1d([1, 2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    // tf.memory() counts bytes per tensor but buffers per allocation: the clone adds a tensor, not a buffer.
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect([...y.dataSync()]).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);
    // Gradients through saved (cloned) tensors are unchanged: d/dx Σ x² = 2x.
    const g = tf.grad((t: Tensor) => tf.sum(tf.square(t)))(tf.tensor1d([1, -2]));
    expect([...g.dataSync()]).toEqual([2, -4]);
  });

  it('look up embedding rows like tf.gather, and name an id outside the table', () => {
    const gather = wasmGatherRows(tf)!;
    const table = tf.randomNormal([50, 12], 0, 1, 'float32', 7);
    const ids = tf.tensor2d([[0, 49, 3], [3, 3, 17]], [2, 3], 'int32');
    const out = gather(table, ids);
    expect(out.shape).toEqual([2, 3, 12]);
    expect([...out.dataSync()]).toEqual([...tf.gather(table, ids).dataSync()]);
    const before = tf.memory().numTensors;
    expect(() => gather(table, tf.tensor1d([1, 50, 2], 'int32'))).toThrow('id 50 at position 1 is outside the table\'s 50 rows');
    expect(() => gather(table, tf.tensor1d([-1], 'int32'))).toThrow('id -1 at position 0');
    // The two id tensors remain; the failed outputs were disposed.
    expect(tf.memory().numTensors).toBe(before + 2);
  });
});

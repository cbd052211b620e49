import { readFile } from 'node:fs/promises';
import { compileWat, wasmModuleSource } from '@pretext/test-fixtures';
import { describe, expect, it } from 'vitest';
import { MinHasher } from './minhash.js';

describe('MinHash SIMD kernel', () => {
  it('is the compiled minhash-kernel.wat (rerun scripts/build-minhash-kernel.ts after editing it)', async () => {
    const wat = await readFile(new URL('./minhash-kernel.wat', import.meta.url), 'utf8');
    const generated = await readFile(new URL('./minhash-kernel.bytes.ts', import.meta.url), 'utf8');
    const source = wasmModuleSource(await compileWat('minhash-kernel.wat', wat), 'MINHASH_KERNEL_WASM', 'scripts/build-minhash-kernel.ts from minhash-kernel.wat');
    expect(generated).toBe(source);
  });

  it('gives the JavaScript loop\'s signatures, for the defaults and for function counts that are not multiples of 16', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    for (const [bands, rows] of [[14, 8], [1, 1], [3, 5], [20, 16]] as const) {
      const simd = new MinHasher({ bands, rows, seed: bands });
      const js = new MinHasher({ bands, rows, seed: bands, simd: false });
      // 1 shingle, a few, a long document (grows the kernel's memory past its first page), extremes of uint32.
      for (const n of [1, 2, 7, 100, 40_000]) {
        const sh = Uint32Array.from({ length: n }, next);
        expect(simd.signatureOf(sh)).toEqual(js.signatureOf(sh));
      }
      const edges = Uint32Array.from([0, 1, 0xffffffff, 0x80000000, 0x7fffffff]);
      expect(simd.signatureOf(edges)).toEqual(js.signatureOf(edges));
      expect(simd.signatureOf(new Uint32Array(0))).toEqual(new Uint32Array(bands * rows).fill(0xffffffff));
    }
  });

  it('gives equal band keys on real text either way', () => {
    const text = 'the quick brown fox jumps over the lazy dog and then the dog sleeps under the old oak tree by the river';
    expect(new MinHasher().bandKeys(text)).toEqual(new MinHasher({ simd: false }).bandKeys(text));
  });
});

/**
 * Compiles src/minhash-kernel.wat into src/minhash-kernel.bytes.ts (the module as base64), so the package needs no
 * WebAssembly tool at run time. Run after editing the .wat: `npx tsx scripts/build-minhash-kernel.ts`;
 * src/minhash-kernel.test.ts fails when the two disagree.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileWat, wasmModuleSource } from '@pretext/test-fixtures';

const src = fileURLToPath(new URL('../src/minhash-kernel.wat', import.meta.url));
const out = fileURLToPath(new URL('../src/minhash-kernel.bytes.ts', import.meta.url));
const bytes = await compileWat('minhash-kernel.wat', await readFile(src, 'utf8'));
await writeFile(out, wasmModuleSource(bytes, 'MINHASH_KERNEL_WASM', 'scripts/build-minhash-kernel.ts from minhash-kernel.wat'));
console.log(`wrote ${out}`);

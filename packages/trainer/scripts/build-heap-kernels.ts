/**
 * Compiles src/heap-kernels.wat into src/heap-kernels.bytes.ts (the module as base64), so the package needs no
 * WebAssembly tool at run time. Run after editing the .wat: `npx tsx scripts/build-heap-kernels.ts`;
 * src/heap-kernels.test.ts fails when the two disagree.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileHeapKernels, heapKernelsModuleSource } from './compile-heap-kernels.js';

const src = fileURLToPath(new URL('../src/heap-kernels.wat', import.meta.url));
const out = fileURLToPath(new URL('../src/heap-kernels.bytes.ts', import.meta.url));
await writeFile(out, heapKernelsModuleSource(await compileHeapKernels(await readFile(src, 'utf8'))));
console.log(`wrote ${out}`);


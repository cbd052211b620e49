import { compileWat, wasmModuleSource } from '@pretext/test-fixtures';

/** The binary of the heap kernels' text module (SIMD and bulk memory on). */
export function compileHeapKernels(wat: string): Promise<Uint8Array> {
  return compileWat('heap-kernels.wat', wat);
}

/** The TypeScript module that carries the binary (src/heap-kernels.bytes.ts). */
export function heapKernelsModuleSource(bytes: Uint8Array): string {
  return wasmModuleSource(bytes, 'HEAP_KERNELS_WASM', 'scripts/build-heap-kernels.ts from heap-kernels.wat');
}

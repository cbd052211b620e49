import type { TF, Tensor } from '@pretext/core';
import { heapKernels, heapOffset, heapOutput, wasmInternals } from './heap-kernels.js';

/**
 * Batched matMul on tfjs' wasm backend through XNNPACK, one matrix at a time, without copying.
 *
 * tfjs-wasm's `BatchMatMul` hands a product to XNNPACK only when it is a single matrix; a batch of them (attention's
 * `[batch·heads, seq, headDim]` products) runs a scalar triple loop at 1–2.5 GFLOP/s. Slicing the batch apart with
 * tf ops copies every slice and cost more than it saved. Here each matrix of the batch is registered with the wasm
 * module as a tensor that points into the middle of the batched input's heap memory (the backend's own
 * `registerTensor`, which is how tfjs registers any tensor), the single-matrix kernel runs on those views, and the
 * views are unregistered again. Measured at `[64,128,64]·[64,64,128]`: 53 → 15 ms; 1.26× per training step at d256 × 4
 * (`bench/ab.ts`). The products bypass tfjs' kernel registry, so `tf.profile` (bench/profile.ts) does not list them.
 *
 * It reads backend internals of @tensorflow/tfjs-backend-wasm 4.x (`wasm.tfjs.registerTensor`, `disposeData`, the
 * exported `BatchMatMul`, `dataIdMap` offsets); `wasmBatchedMatMul` returns `null` when any is missing, and callers
 * fall back to `tf.matMul`.
 */
/** `a [..., m, k] · b [..., k, n]` with equal leading dimensions, both float32, no transposes. */
export type BatchedMatMul = (a: Tensor, b: Tensor) => Tensor;

const shapeBytes = (shape: readonly number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** The per-matrix XNNPACK product with tfjs' own gradient replaced by the same per-matrix products; `null` off wasm. */
export function wasmBatchedMatMul(tf: TF): BatchedMatMul | null {
  const backend = wasmInternals(tf);
  if (!backend) return null;
  const transpose = wasmSwapLast(tf) ?? ((t: Tensor) => tf.transpose(t, swapLastPerm(t.rank)));
  const kernel = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const { registerTensor, disposeData } = backend.wasm.tfjs;
  const offset = (t: Tensor) => heapOffset(backend, t);

  const forward = (a: Tensor, b: Tensor): Tensor => {
    const rank = a.rank;
    const m = a.shape[rank - 2]!;
    const k = a.shape[rank - 1]!;
    const n = b.shape[rank - 1]!;
    const batch = a.size / (m * k);
    const outShape = [...a.shape.slice(0, -1), n];
    const out = heapOutput(tf, backend, outShape);
    // Offsets are read after the output is allocated: malloc may grow the heap, never move live blocks.
    const [ao, bo, oo] = [offset(a), offset(b), offset(out)];
    const sa = shapeBytes([1, m, k]);
    const sb = shapeBytes([1, k, n]);
    for (let i = 0; i < batch; i++) {
      const ia = backend.dataIdNextNumber++;
      const ib = backend.dataIdNextNumber++;
      const io = backend.dataIdNextNumber++;
      registerTensor(ia, m * k, ao + i * m * k * 4);
      registerTensor(ib, k * n, bo + i * k * n * 4);
      registerTensor(io, m * n, oo + i * m * n * 4);
      try {
        kernel(ia, sa, 3, ib, sb, 3, 0, 0, io);
      } finally {
        // Unregistering a view frees nothing (the memory belongs to a, b and out) but drops XNNPACK's cached
        // operator for it.
        disposeData(ia);
        disposeData(ib);
        disposeData(io);
      }
    }
    return out;
  };

  // dA = dY·Bᵀ, dB = Aᵀ·dY, each as an explicit transpose and the same per-matrix product.
  return tf.customGrad(((a: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    save([a, b]);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [forward(dy, transpose(sb)), forward(transpose(sa), dy)];
    };
    return { value: forward(a, b), gradFunc };
  }) as never) as unknown as BatchedMatMul;
}

/** The permutation that swaps the last two axes. */
export function swapLastPerm(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

/** `t` with its last two axes swapped: `[..., m, n]` → `[..., n, m]`, float32. */
export type SwapLast = (t: Tensor) => Tensor;

/**
 * Swaps the last two axes of a float32 tensor on wasm, straight between the input's and a new output's heap memory:
 * in the SIMD kernel `swapLast` (heap-kernels.wat), or, where that cannot load, in JavaScript 4 rows × 16 columns at
 * a time. tfjs-wasm's `Transpose` walks the output in order and reads the input a column at a time: measured alone,
 * `[2048,256]` 4.7 ms (JavaScript 1.8, SIMD 0.41), `[2048,1024]` 18.6 (4.3, 1.53), `[8192,256]` 40.7 (6.5, 1.35).
 * The matMul gradients need one transpose per operand (wasm's transposed products are 10× slower than plain ones),
 * so this is most of what transposes cost a step. Differentiable (the gradient is the same swap); `null` off wasm or
 * when the backend internals are missing.
 */
export function wasmSwapLast(tf: TF): SwapLast | null {
  const backend = wasmInternals(tf);
  if (!backend) return null;
  const kernels = heapKernels(backend);
  const raw = (x: Tensor): Tensor => {
    const rank = x.rank;
    const m = x.shape[rank - 2]!;
    const n = x.shape[rank - 1]!;
    const out = heapOutput(tf, backend, [...x.shape.slice(0, -2), n, m]);
    if (kernels) {
      kernels.swapLast(heapOffset(backend, x), heapOffset(backend, out), m, n, x.size / (m * n));
      return out;
    }
    // The heap view is read after the allocation, which may have grown (and so replaced) it.
    const heap = backend.wasm.HEAPF32;
    const src = heapOffset(backend, x) >> 2;
    const dst = heapOffset(backend, out) >> 2;
    for (let b = 0, size = m * n; b < x.size; b += size) swapInto(heap, src + b, dst + b, m, n);
    return out;
  };
  const op = tf.customGrad(((x: Tensor) => ({ value: raw(x), gradFunc: (dy: Tensor) => raw(dy) })) as never) as unknown as SwapLast;
  return (t: Tensor) => (t.dtype === 'float32' && t.rank >= 2 ? op(t) : tf.transpose(t, swapLastPerm(t.rank)));
}

/** heap[dst + j·m + i] = heap[src + i·n + j] for an m × n matrix. */
function swapInto(heap: Float32Array, src: number, dst: number, m: number, n: number): void {
  const block = 16;
  const m4 = m - (m % 4);
  for (let j0 = 0; j0 < n; j0 += block) {
    const j1 = Math.min(n, j0 + block);
    let i = 0;
    for (; i < m4; i += 4) {
      const r0 = src + i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      for (let j = j0; j < j1; j++) {
        const o = dst + j * m + i;
        heap[o] = heap[r0 + j]!;
        heap[o + 1] = heap[r1 + j]!;
        heap[o + 2] = heap[r2 + j]!;
        heap[o + 3] = heap[r3 + j]!;
      }
    }
    for (; i < m; i++) {
      const r = src + i * n;
      for (let j = j0; j < j1; j++) heap[dst + j * m + i] = heap[r + j]!;
    }
  }
}

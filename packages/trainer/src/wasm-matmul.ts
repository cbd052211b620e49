import type { TF, Tensor } from '@pretext/core';

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
interface WasmModule {
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}
interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
}

/** `a [..., m, k] · b [..., k, n]` with equal leading dimensions, both float32, no transposes. */
export type BatchedMatMul = (a: Tensor, b: Tensor) => Tensor;

function internals(tf: TF): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const wasm = backend.wasm;
  if (
    !wasm ||
    typeof wasm.cwrap !== 'function' ||
    typeof wasm.tfjs?.registerTensor !== 'function' ||
    typeof wasm.tfjs.disposeData !== 'function' ||
    typeof backend.dataIdNextNumber !== 'number' ||
    typeof backend.dataIdMap?.get !== 'function' ||
    typeof backend.makeOutput !== 'function'
  ) {
    return null;
  }
  return backend as WasmBackendInternals;
}

const shapeBytes = (shape: readonly number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** The per-matrix XNNPACK product with tfjs' own gradient replaced by the same per-matrix products; `null` off wasm. */
export function wasmBatchedMatMul(tf: TF): BatchedMatMul | null {
  const backend = internals(tf);
  if (!backend) return null;
  const kernel = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const { registerTensor, disposeData } = backend.wasm.tfjs;
  const offset = (t: Tensor): number => {
    const data = backend.dataIdMap.get(t.dataId);
    if (!data) throw new RangeError('wasmBatchedMatMul: a tensor that is not on the wasm backend');
    return data.memoryOffset;
  };

  const forward = (a: Tensor, b: Tensor): Tensor => {
    const rank = a.rank;
    const m = a.shape[rank - 2]!;
    const k = a.shape[rank - 1]!;
    const n = b.shape[rank - 1]!;
    const batch = a.size / (m * k);
    const outShape = [...a.shape.slice(0, -1), n];
    const out = tf.engine().makeTensorFromTensorInfo(backend.makeOutput(outShape, 'float32'));
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

  const swap = (t: Tensor) => {
    const perm = Array.from({ length: t.rank }, (_, i) => i);
    perm[t.rank - 1] = t.rank - 2;
    perm[t.rank - 2] = t.rank - 1;
    return tf.transpose(t, perm);
  };
  // dA = dY·Bᵀ, dB = Aᵀ·dY, each as an explicit (fast, rank-3) transpose and the same per-matrix product.
  return tf.customGrad(((a: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    save([a, b]);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [forward(dy, swap(sb)), forward(swap(sa), dy)];
    };
    return { value: forward(a, b), gradFunc };
  }) as never) as unknown as BatchedMatMul;
}

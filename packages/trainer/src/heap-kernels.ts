import type { TF, Tensor } from '@pretext/core';
import { HEAP_KERNELS_WASM } from './heap-kernels.bytes.js';

/**
 * Our own WebAssembly SIMD kernels, instantiated on tfjs-backend-wasm's memory so they read and write tensors where
 * they lie (source: `heap-kernels.wat`). They fill gaps where tfjs-wasm has no fast kernel:
 * - `colsum`: a bias gradient. tfjs-wasm's `Sum` over axis 0 transposes first, and `ones · x` through XNNPACK packs
 *   all of `x` as weights on every call (for `[2048, 8192]`: 135 ms, of which 94 packing).
 * - `swapLast`: the last two axes swapped, 4 × 4 blocks through shuffles (tfjs-wasm's `Transpose` reads a column
 *   at a time).
 * - layer norm and GELU, forward and backward, each one pass over its arrays instead of 6–12 tfjs kernels.
 * - `gatherRows`: an embedding lookup as one bulk copy per row.
 * - `adamw`: one parameter's AdamW update in one pass, bit-identical to the tf ops (about 13 kernels each).
 * Every pointer is a byte offset into the heap.
 */
export interface HeapKernels {
  colsum(src: number, rows: number, width: number, dst: number): void;
  swapLast(src: number, dst: number, m: number, n: number, count: number): void;
  layerNormForward(x: number, g: number, b: number, y: number, xhat: number, rstd: number, rows: number, d: number, eps: number): void;
  layerNormBackward(dy: number, xhat: number, rstd: number, g: number, dx: number, dgamma: number, dbeta: number, rows: number, d: number): void;
  geluForward(x: number, y: number, s: number, n: number, a: number, b: number): void;
  geluBackward(dy: number, x: number, s: number, dx: number, n: number, a: number, b3: number): void;
  /** −1, or the position of the first id outside the table. */
  gatherRows(table: number, rows: number, width: number, ids: number, count: number, out: number): number;
  adamw(
    p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    scale: number, b1: number, c: number, b2: number, e: number, lrc1: number, c2: number, eps: number, decay: number,
  ): void;
}

interface WasmModule {
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  /** The heap as floats; replaced when the heap grows, so read it after every allocation. */
  HEAPF32: Float32Array;
  /** The module's exports; `memory` is the heap itself. */
  asm?: { memory?: unknown };
}
export interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
}

/** The wasm backend's internals these kernels use, or `null` off wasm or when tfjs-backend-wasm's layout changed. */
export function wasmInternals(tf: TF): WasmBackendInternals | null {
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
    typeof backend.makeOutput !== 'function' ||
    !(wasm.HEAPF32 instanceof Float32Array)
  ) {
    return null;
  }
  return backend as WasmBackendInternals;
}

/** A new float32 tensor on the wasm heap; its memory is uninitialised until a kernel writes it. */
export function heapOutput(tf: TF, backend: WasmBackendInternals, shape: number[]): Tensor {
  return tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32'));
}

/** Byte offset of a wasm tensor's data in the heap. */
export function heapOffset(backend: WasmBackendInternals, t: Tensor): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new RangeError('a tensor that is not on the wasm backend');
  return data.memoryOffset;
}

// The few WebAssembly JS API members used here (the project's TypeScript libs carry no DOM types).
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

const instances = new WeakMap<object, HeapKernels | null>();

/** The kernels on this backend's memory; `null` when tfjs-wasm's memory is not reachable (its internals changed). */
export function heapKernels(backend: WasmBackendInternals): HeapKernels | null {
  const wasm = backend.wasm;
  if (instances.has(wasm)) return instances.get(wasm)!;
  const memory = wasm.asm?.memory;
  let kernels: HeapKernels | null = null;
  if (memory instanceof WebAssembly.Memory) {
    try {
      // Synchronous compilation is fine in Node for a module this small (a few kB).
      const module = new WebAssembly.Module(Buffer.from(HEAP_KERNELS_WASM, 'base64'));
      kernels = new WebAssembly.Instance(module, { tfjs: { memory } }).exports as unknown as HeapKernels;
    } catch {
      // A memory these kernels cannot import (tfjs' threaded build shares its memory between workers): the
      // callers fall back to tf ops.
      kernels = null;
    }
  }
  instances.set(wasm, kernels);
  return kernels;
}

/** Allocates float32 outputs on the heap and runs kernels on tensors' heap offsets. */
function heapOps(tf: TF) {
  const backend = wasmInternals(tf);
  const kernels = backend && heapKernels(backend);
  if (!backend || !kernels) return null;
  return {
    kernels,
    output: (shape: number[]): Tensor => heapOutput(tf, backend, shape),
    at: (t: Tensor): number => heapOffset(backend, t),
  };
}

/** Column sums of a float32 tensor `[..., width]` → `[width]`, on the heap; `null` off wasm. Not differentiable. */
export function wasmColumnSums(tf: TF): ((x: Tensor) => Tensor) | null {
  const h = heapOps(tf);
  if (!h) return null;
  return (x: Tensor): Tensor => {
    const width = x.shape[x.rank - 1]!;
    const out = h.output([width]);
    h.kernels.colsum(h.at(x), x.size / width, width, h.at(out));
    return out;
  };
}

/**
 * Rows of a float32 table `[rows, width]` at int32 `ids` (any shape): `[...ids.shape, width]`, not differentiable;
 * `null` off wasm. An id outside the table is a `RangeError` naming it.
 */
export function wasmGatherRows(tf: TF): ((table: Tensor, ids: Tensor) => Tensor) | null {
  const h = heapOps(tf);
  if (!h) return null;
  return (table, ids) => {
    const [rows, width] = table.shape as [number, number];
    const out = h.output([...ids.shape, width]);
    const bad = h.kernels.gatherRows(h.at(table), rows, width, h.at(ids), ids.size, h.at(out));
    if (bad >= 0) {
      out.dispose();
      throw new RangeError(`embedding lookup: id ${ids.dataSync()[bad]} at position ${bad} is outside the table's ${rows} rows`);
    }
    return out;
  };
}

/**
 * The scalars of one AdamW update (see `AdamW.apply`): with g = grad·scale, m' = b1·m + c·g, v' = b2·v + e·g²,
 * p' = p·decay − lrc1·m' / (√(v'/c2) + eps).
 */
export interface AdamWScalars {
  readonly scale: number;
  readonly b1: number;
  readonly c: number;
  readonly b2: number;
  readonly e: number;
  readonly lrc1: number;
  readonly c2: number;
  readonly eps: number;
  readonly decay: number;
}

/** New `[p, m, v]` after one AdamW update of float32 tensors of one shape; `null` off wasm. */
export type AdamWUpdate = (p: Tensor, g: Tensor, m: Tensor, v: Tensor, k: AdamWScalars) => [Tensor, Tensor, Tensor];

export function wasmAdamWUpdate(tf: TF): AdamWUpdate | null {
  const h = heapOps(tf);
  if (!h) return null;
  const { kernels, output, at } = h;
  return (p, g, m, v, k) => {
    const [p1, m1, v1] = [output(p.shape), output(p.shape), output(p.shape)];
    kernels.adamw(at(p), at(g), at(m), at(v), at(p1), at(m1), at(v1), p.size, k.scale, k.b1, k.c, k.b2, k.e, k.lrc1, k.c2, k.eps, k.decay);
    return [p1, m1, v1];
  };
}

/** Layer norm over the last axis, `x·γ + β` after normalising, with its gradients; `null` off wasm. */
export type LayerNorm = (x: Tensor, gamma: Tensor, beta: Tensor, eps: number) => Tensor;

export function wasmLayerNorm(tf: TF): LayerNorm | null {
  const h = heapOps(tf);
  if (!h) return null;
  const { kernels, output, at } = h;
  return (x, gamma, beta, eps) => {
    const d = x.shape[x.rank - 1]!;
    const rows = x.size / d;
    const op = tf.customGrad(((xi: Tensor, g: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
      const y = output(xi.shape);
      const xhat = output(xi.shape);
      const rstd = output([rows]);
      kernels.layerNormForward(at(xi), at(g), at(b), at(y), at(xhat), at(rstd), rows, d, eps);
      save([xhat, rstd, g]);
      const gradFunc = (dy: Tensor, saved: Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [Tensor, Tensor, Tensor];
        const dx = output(dy.shape);
        const dgamma = output([d]);
        const dbeta = output([d]);
        kernels.layerNormBackward(at(dy), at(sxhat), at(srstd), at(sg), at(dx), at(dgamma), at(dbeta), rows, d);
        return [dx, dgamma, dbeta];
      };
      return { value: y, gradFunc };
    }) as never) as unknown as (x: Tensor, g: Tensor, b: Tensor) => Tensor;
    return op(x, gamma, beta);
  };
}

/**
 * `x·σ(x·(a + b·x²))` with its gradient, for float32 tensors whose size is a multiple of 4 (else `null`); the
 * factory gives `null` off wasm. With a = 2√(2/π), b = a·0.044715 this is GPT-2's tanh GELU.
 */
export type Gelu = (x: Tensor) => Tensor | null;

export function wasmGelu(tf: TF, a: number, b: number): Gelu | null {
  const h = heapOps(tf);
  if (!h) return null;
  const { kernels, output, at } = h;
  const op = tf.customGrad(((x: Tensor, save: (t: Tensor[]) => void) => {
    const y = output(x.shape);
    const s = output(x.shape);
    kernels.geluForward(at(x), at(y), at(s), x.size, a, b);
    save([x, s]);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sx, ss] = saved as [Tensor, Tensor];
      const dx = output(dy.shape);
      kernels.geluBackward(at(dy), at(sx), at(ss), at(dx), dy.size, a, 3 * b);
      return [dx];
    };
    return { value: y, gradFunc };
  }) as never) as unknown as Gelu;
  return (x) => (x.dtype === 'float32' && x.size % 4 === 0 ? op(x) : null);
}

const sharing = Symbol('pretext.shareIdentity');

/**
 * Makes tfjs-wasm's `Identity` share its input's memory (a reference count, as tfjs' cpu backend does) instead of
 * copying it. tfjs clones every tensor a custom gradient saves for the backward pass through `Identity`: about 230
 * copies per training step at d256 × 4 layers. Tensors are immutable, so sharing gives the same values; this only
 * changes the registration of the wasm backend's `Identity` kernel, once per process. Returns whether it is in place.
 */
export function shareWasmIdentity(tf: TF): boolean {
  const kernel = tf.getKernel('Identity', 'wasm');
  if (!kernel) return false;
  if ((kernel.kernelFunc as unknown as Record<symbol, boolean>)[sharing]) return true;
  const copy = kernel.kernelFunc;
  type Args = { inputs: { x: { dataId: object; shape: number[]; dtype: string } }; backend: { incRef?(dataId: object): void } };
  const kernelFunc = (args: Args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string' || typeof args.backend.incRef !== 'function') return (copy as unknown as (a: Args) => unknown)(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  Object.defineProperty(kernelFunc, sharing, { value: true });
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ ...kernel, kernelFunc: kernelFunc as unknown as typeof kernel.kernelFunc });
  return true;
}

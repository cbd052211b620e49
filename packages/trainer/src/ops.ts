import type { TF, Tensor } from '@pretext/core';
import type { BackendName } from './backend.js';
import { shareWasmIdentity, wasmColumnSums, wasmGatherRows, wasmGelu, wasmLayerNorm } from './heap-kernels.js';
import { swapLastPerm, wasmBatchedMatMul, wasmSwapLast } from './wasm-matmul.js';

/**
 * Tensor operations the model is built from, tuned per backend.
 *
 * On wasm (and cpu) a matMul with `transposeA`/`transposeB` runs about 10× slower than a plain one, and the
 * gradients tfjs registers for matMul use exactly those; `matMul` here is a `customGrad` whose backward pass uses
 * explicit `transpose` + plain matMuls (measured 3.7–4.7× faster per training step). wasm has no
 * `UnsortedSegmentSum` kernel (the gradient of `gather`) and cpu's loops per vocabulary row, so `embed`'s gradient
 * scatters with `scatterND`, which sums duplicate indices.
 */
export interface Ops {
  readonly tf: TF;
  readonly backend: BackendName;
  matMul(a: Tensor, b: Tensor, transposeA?: boolean, transposeB?: boolean): Tensor;
  /** Rows of `table` `[V, D]` at `ids` (any shape, int32): `[...ids.shape, D]`. */
  embed(table: Tensor, ids: Tensor): Tensor;
  /** `x [N, in] · w [in, out] + b`. */
  linear(x: Tensor, w: Tensor, b?: Tensor): Tensor;
  /** Layer norm over the last axis. */
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps?: number): Tensor;
  /** GELU, tanh approximation (GPT-2's `gelu_new`). */
  gelu(x: Tensor): Tensor;
  /** The `tf` handed to objectives: the same namespace with `matMul`, axis-0 `gather` and bias `add` replaced by the fast ones. */
  readonly objectiveTf: TF;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function createOps(tf: TF, backend: BackendName): Ops {
  const native = backend === 'tfjs-node' || backend === 'tfjs-node-gpu';
  // Saved tensors are cloned through Identity, which tfjs-wasm implements as a copy.
  if (backend === 'wasm') shareWasmIdentity(tf);

  // Explicit transposes of the last two axes: in JavaScript on the wasm heap where possible (3–6× tfjs-wasm's).
  const transposeLast = (backend === 'wasm' ? wasmSwapLast(tf) : null) ?? ((t: Tensor) => tf.transpose(t, swapLastPerm(t.rank)));

  // Plain matMul whose gradient avoids transposed matMuls.
  const plainMatMul = tf.customGrad(((a: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    save([a, b]);
    const value = tf.matMul(a, b);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [tf.matMul(dy, transposeLast(sb)), tf.matMul(transposeLast(sa), dy)];
    };
    return { value, gradFunc };
  }) as never) as unknown as (a: Tensor, b: Tensor) => Tensor;

  // a · bᵀ (the tied output layer: h · wteᵀ) with gradients da = dy · b and db = dyᵀ · a, so neither bᵀ's transpose
  // back nor aᵀ · dy is needed: XNNPACK packs its right operand on every call, and aᵀ · dy would pack the
  // [rows, vocab] gradient where dyᵀ · a packs the [rows, d] activations.
  const matMulTransposedB = tf.customGrad(((a: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    save([a, b]);
    const value = tf.matMul(a, transposeLast(b));
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [tf.matMul(dy, sb), tf.matMul(transposeLast(dy), sa)];
    };
    return { value, gradFunc };
  }) as never) as unknown as (a: Tensor, b: Tensor) => Tensor;

  const batched = backend === 'wasm' ? wasmBatchedMatMul(tf) : null;
  const sameLeading = (a: Tensor, b: Tensor) => a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);

  const matMul = (a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor => {
    if (native || !(a instanceof tf.Tensor) || !(b instanceof tf.Tensor) || a.rank !== b.rank || a.rank < 2 || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return tf.matMul(a, b, transposeA, transposeB);
    }
    if (a.rank >= 3 && a.size / (a.shape[a.rank - 1]! * a.shape[a.rank - 2]!) > 1) {
      // Batched products: one XNNPACK product per matrix on views into the heap (wasm-matmul.ts); otherwise tfjs'
      // scalar loop, which reads transposed operands as fast as plain ones (69 / 76 / 69 ms for plain /
      // transposeB / transposeA at [64,128,64]·[64,64,128]), so tfjs' own gradient is the fast one there.
      if (!batched || !sameLeading(a, b)) return tf.matMul(a, b, transposeA, transposeB);
      return batched(transposeA ? transposeLast(a) : a, transposeB ? transposeLast(b) : b);
    }
    if (transposeB && !transposeA && a.rank === 2) return matMulTransposedB(a, b);
    const aa = transposeA ? transposeLast(a) : a;
    const bb = transposeB ? transposeLast(b) : b;
    return plainMatMul(aa, bb);
  };

  const heapGather = backend === 'wasm' ? wasmGatherRows(tf) : null;
  const embed = (table: Tensor, ids: Tensor): Tensor => {
    const flat = tf.reshape(ids, [-1]);
    const width = table.shape[1]!;
    if (native) return tf.reshape(tf.gather(table, flat), [...ids.shape, width]);
    const rowsOf = heapGather && table.dtype === 'float32' && flat.dtype === 'int32' ? heapGather : (t: Tensor, i: Tensor) => tf.gather(t, i);
    const op = tf.customGrad(((t: Tensor, save: (t: Tensor[]) => void) => {
      const value = rowsOf(t, flat);
      // Saved, not closed over: tensors made in the forward pass are disposed before the backward pass runs.
      save([tf.reshape(flat, [-1, 1])]);
      const gradFunc = (dy: Tensor, saved: Tensor[]) => tf.scatterND(saved[0]!, dy, t.shape);
      return { value, gradFunc };
    }) as never) as unknown as (t: Tensor) => Tensor;
    return tf.reshape(op(table), [...ids.shape, width]);
  };

  // Column sums: on wasm in the heap kernel `colsum`; elsewhere as ones[1, rows] · x, because a reduction over axis 0
  // transposes the whole input first (570 ms for [2048, 8192] on wasm) where the matMul reads it once.
  const heapSumRows = backend === 'wasm' ? wasmColumnSums(tf) : null;
  const sumRows = (x: Tensor): Tensor => {
    if (heapSumRows && x.dtype === 'float32') return heapSumRows(x);
    const width = x.shape[x.rank - 1]!;
    const rows = x.size / width;
    return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(x, [rows, width])), [width]);
  };

  // x [..., n] + b [n] whose bias gradient uses sumRows.
  const biasAdd = tf.customGrad(((x: Tensor, b: Tensor) => {
    const value = tf.add(x, b);
    const gradFunc = (dy: Tensor) => [dy, sumRows(dy)];
    return { value, gradFunc };
  }) as never) as unknown as (x: Tensor, b: Tensor) => Tensor;

  const linear = (x: Tensor, w: Tensor, b?: Tensor): Tensor => {
    const y = matMul(x, w);
    return b ? add(y, b) : y;
  };

  const add = ((a: Tensor, b: Tensor) => {
    if (!native && a instanceof tf.Tensor && b instanceof tf.Tensor && a.dtype === 'float32' && b.dtype === 'float32' && b.rank === 1 && a.rank >= 2 && a.shape[a.rank - 1] === b.shape[0]) {
      return biasAdd(a, b);
    }
    return tf.add(a, b);
  }) as TF['add'];

  // Analytic backward pass: 8 elementwise ops instead of the ~15 autodiff records through moments().
  const heapLayerNorm = backend === 'wasm' ? wasmLayerNorm(tf) : null;
  const layerNorm = (x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor => {
    if (heapLayerNorm && x.dtype === 'float32' && gamma.rank === 1 && beta.rank === 1) return heapLayerNorm(x, gamma, beta, eps);
    const axis = x.rank - 1;
    const op = tf.customGrad(((xi: Tensor, g: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
      const mean = tf.mean(xi, axis, true);
      const xc = tf.sub(xi, mean);
      const variance = tf.mean(tf.square(xc), axis, true);
      const rstd = tf.rsqrt(tf.add(variance, eps));
      const xhat = tf.mul(xc, rstd);
      save([xhat, rstd, g]);
      const value = tf.add(tf.mul(xhat, g), b);
      const gradFunc = (dy: Tensor, saved: Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [Tensor, Tensor, Tensor];
        const dgamma = sumRows(tf.mul(dy, sxhat));
        const dbeta = sumRows(dy);
        const dxhat = tf.mul(dy, sg);
        const m1 = tf.mean(dxhat, axis, true);
        const m2 = tf.mean(tf.mul(dxhat, sxhat), axis, true);
        const dx = tf.mul(srstd, tf.sub(tf.sub(dxhat, m1), tf.mul(sxhat, m2)));
        return [dx, dgamma, dbeta];
      };
      return { value, gradFunc };
    }) as never) as unknown as (x: Tensor, g: Tensor, b: Tensor) => Tensor;
    return op(x, gamma, beta);
  };

  // 0.5·x·(1 + tanh(u)) = x·σ(2u), u = √(2/π)(x + 0.044715x³): sigmoid instead of tanh (3× faster on wasm,
  // measured 71 / 210 ms on [2048, 1024]) and 6 elementwise kernels instead of 9. Hand-written derivative:
  // tfjs' autodiff of the formula costs about twice the ops, and pow(x, 3) is slow on wasm.
  const GELU_A = 2 * SQRT_2_OVER_PI;
  const GELU_B = 2 * SQRT_2_OVER_PI * 0.044715;
  const tfGelu = tf.customGrad(((x: Tensor, save: (t: Tensor[]) => void) => {
    const x2 = tf.square(x);
    const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(x2, GELU_B), GELU_A)));
    save([x, x2, s]);
    const value = tf.mul(x, s);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [sx, sx2, ss] = saved as [Tensor, Tensor, Tensor];
      // d/dx x·σ(z) = σ + x·σ(1 − σ)·z', z' = A + 3B·x²
      const dz = tf.add(tf.mul(sx2, 3 * GELU_B), GELU_A);
      const xs = tf.mul(sx, ss);
      const grad = tf.add(ss, tf.mul(tf.sub(xs, tf.mul(xs, ss)), dz));
      return [tf.mul(dy, grad)];
    };
    return { value, gradFunc };
  }) as never) as unknown as (x: Tensor) => Tensor;
  // The same function and derivative in one pass each on wasm (heap-kernels.wat).
  const heapGelu = backend === 'wasm' ? wasmGelu(tf, GELU_A, GELU_B) : null;
  const gelu = (x: Tensor): Tensor => heapGelu?.(x) ?? tfGelu(x);

  const gather = ((x: Tensor, indices: Tensor, axis = 0, batchDims = 0) => {
    if (native || axis !== 0 || batchDims !== 0 || !(x instanceof tf.Tensor) || !(indices instanceof tf.Tensor) || x.rank !== 2) {
      return tf.gather(x, indices, axis, batchDims);
    }
    return embed(x, indices);
  }) as TF['gather'];

  // A namespace object with two replacements; everything else is tfjs itself.
  const objectiveTf = Object.assign(Object.create(null), tf, { matMul, gather, add }) as TF;

  return { tf, backend, matMul, embed, linear, layerNorm, gelu, objectiveTf };
}

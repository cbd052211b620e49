import type { Tensor, Tensor2D, TF, Variable } from '@pretext/core';

/** BERT's GELU (tanh approximation); `x·x·x` instead of `pow(x, 3)`, which is slow on the wasm backend. */
export function gelu(tf: TF, x: Tensor): Tensor {
  return tf.tidy(() => {
    const cube = tf.mul(tf.mul(x, x), x);
    const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** Layer normalisation over the last axis (BERT's epsilon 1e-12). */
export function layerNorm(tf: TF, x: Tensor, gamma: Variable, beta: Variable, epsilon = 1e-12): Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
  });
}

/** `x · kernel + bias` for `x` of shape `[n, in]`. */
export function dense(tf: TF, x: Tensor2D, kernel: Variable, bias: Variable): Tensor2D {
  return tf.add(tf.matMul(x, kernel as unknown as Tensor2D), bias) as Tensor2D;
}

/**
 * Rows `indices` of a 2-D tensor. The gradient is written with `scatterND` because tfjs's own gradient of
 * `gather` needs the `UnsortedSegmentSum` kernel, which the wasm backend does not have.
 */
export function gatherRows(tf: TF, x: Tensor2D, indices: Tensor): Tensor2D {
  const shape = x.shape;
  const rows = indices.shape[0]!;
  const op = tf.customGrad((input, save) => {
    // Saved, not closed over: the forward pass runs in a scope that disposes every tensor it does not keep.
    (save as (tensors: Tensor[]) => void)([indices]);
    return {
      value: tf.gather(input as Tensor2D, indices),
      gradFunc: (dy: Tensor, saved: Tensor[]) => tf.scatterND(tf.reshape(saved[0]!, [rows, 1]), dy, shape),
    };
  });
  return op(x) as Tensor2D;
}

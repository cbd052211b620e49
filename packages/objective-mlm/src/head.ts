import {
  ConfigError,
  IGNORE_INDEX,
  type Batch,
  type ForwardContext,
  type HeadContext,
  type ObjectiveHead,
  type Scalar,
  type Tensor,
  type Tensor2D,
} from '@pretext/core';
import { dense, gatherRows, gelu, layerNorm } from './layers.js';

/** Number of predicted tokens (labels other than `IGNORE_INDEX`) in a host batch. */
export function countLabels(batch: Batch, column = 'labels'): number {
  const labels = batch.columns[column];
  if (!labels) throw new ConfigError(`batch.${column}`, undefined, `a "${column}" column; build batches through composeObjectives(...).examples`);
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) n++;
  return n;
}

/**
 * BERT's masked-LM head: dense + GELU + LayerNorm on the hidden states of the predicted positions only, then
 * logits tied to the word embeddings plus an output bias. Loss term `mlm` is the summed cross-entropy over
 * labels ≠ −100 (the trainer divides by the total count over accumulated micro-batches); metric `accuracy`.
 */
export function mlmHead(ctx: HeadContext, term = 'mlm'): ObjectiveHead {
  const { tf, model } = ctx;
  const d = model.dModel;
  const kernel = ctx.variable('transform/kernel', [d, d], { kind: 'normal', std: model.initializerRange ?? 0.02 });
  const bias = ctx.variable('transform/bias', [d], { kind: 'zeros' });
  const gamma = ctx.variable('transform/gamma', [d], { kind: 'ones' });
  const beta = ctx.variable('transform/beta', [d], { kind: 'zeros' });
  const outputBias = ctx.variable('output/bias', [model.vocabSize], { kind: 'zeros' });
  const embeddings = ctx.wordEmbeddings;
  // Vocabulary logits of hidden states [rows, d]: the transform, then the tied output layer.
  const logitsOf = (h: Tensor2D): Tensor2D => {
    const transformed = layerNorm(tf, gelu(tf, dense(tf, h, kernel, bias)), gamma, beta) as Tensor2D;
    return tf.add(tf.matMul(transformed, embeddings as unknown as Tensor2D, false, true), outputBias) as Tensor2D;
  };

  return {
    terms: { [term]: 1 },
    counts: (batch) => ({ [term]: countLabels(batch) }),
    forward(fc: ForwardContext) {
      const labels = fc.batch.labels;
      if (!labels) throw new ConfigError('batch.labels', undefined, 'a "labels" column written by mlm; build batches through composeObjectives(...).examples');
      // Positions are read on the host: the head runs on the ~15% predicted tokens only, as BERT's
      // gather_indexes does, instead of a [batch·seqLen, vocab] logit matrix.
      const flat = labels.dataSync();
      let count = 0;
      for (let i = 0; i < flat.length; i++) if (flat[i] !== IGNORE_INDEX) count++;
      if (count === 0) {
        // Keep the loss connected to this head's parameters (with zero gradient) so optimizers see them.
        const zero = tf.mul(tf.sum(outputBias), 0) as Scalar;
        return { sums: { [term]: zero }, metrics: { accuracy: { sum: tf.clone(zero), count: 0 } } };
      }
      const positions = new Int32Array(count);
      const targets = new Int32Array(count);
      for (let i = 0, k = 0; i < flat.length; i++) {
        if (flat[i] !== IGNORE_INDEX) {
          positions[k] = i;
          targets[k++] = flat[i]!;
        }
      }
      const hidden = fc.hidden();
      const pos = tf.tensor1d(positions, 'int32');
      const target = tf.tensor1d(targets, 'int32');
      const picked = gatherRows(tf, tf.reshape(hidden, [fc.size * fc.seqLen, d]) as Tensor2D, pos);
      const logits = logitsOf(picked);
      const loss = crossEntropySum(fc, logits, target);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), 'float32')) as Scalar;
      return { sums: { [term]: loss }, metrics: { accuracy: { sum: correct, count } } };
    },
    // Fill-mask and export: the same head on any hidden states.
    logits: logitsOf,
  };
}

/** Σ over rows of −log softmax(logits)[target], stable through logSumExp. */
export function crossEntropySum(fc: Pick<ForwardContext, 'tf'>, logits: Tensor2D, target: Tensor): Scalar {
  const { tf } = fc;
  const vocab = logits.shape[1];
  const lse = tf.logSumExp(logits, 1);
  const chosen = tf.sum(tf.mul(logits, tf.oneHot(target as Tensor & { rank: 1 }, vocab)), 1);
  return tf.sum(tf.sub(lse, chosen)) as Scalar;
}

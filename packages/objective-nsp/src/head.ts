import { ConfigError, type ForwardContext, type HeadContext, type ObjectiveHead, type Scalar, type Tensor, type Tensor2D } from '@pretext/core';

/**
 * BERT's pooler and a two-way classifier on the `[CLS]` position: `tanh(h₀·W + b)`, then `·W₂ + b₂`.
 * Loss term `term` is the summed cross-entropy over the batch's rows against `labelColumn`; counts are rows;
 * metric `accuracy`. Shared by next-sentence (`nsp`) and sentence-order (`sop`) prediction.
 */
export function pairHead(ctx: HeadContext, term: string, labelColumn: string): ObjectiveHead {
  const { tf, model } = ctx;
  const d = model.dModel;
  const std = ctx.model.initializerRange ?? 0.02;
  const poolerKernel = ctx.variable('pooler/kernel', [d, d], { kind: 'normal', std });
  const poolerBias = ctx.variable('pooler/bias', [d], { kind: 'zeros' });
  const kernel = ctx.variable('classifier/kernel', [d, 2], { kind: 'normal', std });
  const bias = ctx.variable('classifier/bias', [2], { kind: 'zeros' });

  const classify = (hidden: Tensor): Tensor2D => {
    const [b] = hidden.shape;
    const first = tf.reshape(tf.slice(hidden, [0, 0, 0], [b!, 1, d]), [b!, d]) as Tensor2D;
    const pooled = tf.tanh(tf.add(tf.matMul(first, poolerKernel as unknown as Tensor2D), poolerBias)) as Tensor2D;
    return tf.add(tf.matMul(pooled, kernel as unknown as Tensor2D), bias) as Tensor2D;
  };

  return {
    terms: { [term]: 1 },
    counts: (batch) => {
      if (!batch.columns[labelColumn]) throw missing(labelColumn);
      return { [term]: batch.size };
    },
    forward(fc: ForwardContext) {
      const labels = fc.batch[labelColumn];
      if (!labels) throw missing(labelColumn);
      const logits = classify(fc.hidden());
      const target = tf.cast(tf.reshape(labels, [fc.size]), 'int32');
      const picked = tf.sum(tf.mul(logits, tf.oneHot(target as Tensor & { rank: 1 }, 2)), 1);
      const loss = tf.sum(tf.sub(tf.logSumExp(logits, 1), picked)) as Scalar;
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), 'float32')) as Scalar;
      return { sums: { [term]: loss }, metrics: { accuracy: { sum: correct, count: fc.size } } };
    },
  };
}

function missing(column: string): ConfigError {
  return new ConfigError(`batch.${column}`, undefined, `a "${column}" column; build batches through composeObjectives(...).examples`);
}

import {
  ConfigError,
  OBJECTIVE_CONTRACT_VERSION,
  type ForwardContext,
  type HeadContext,
  type Objective,
  type Scalar,
  type TF,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
  type Variable,
} from '@pretext/core';

/** The batch column holding each row's class index (Hugging Face datasets call it `label`). */
export const CLASS_LABEL = 'label';

/** How one vector per row is read from the hidden states. */
export type Pooling = 'cls' | 'last' | 'mean';

export interface ClassifierOptions {
  readonly numLabels: number;
  /** `cls`: the first position (BERT's [CLS]); `last`: the last non-padding token (GPT); `mean`: mean over non-padding tokens. */
  readonly pooling: Pooling;
  /** BERT's pooler (dense + tanh) before the output layer. Default: true for `cls`, false otherwise. */
  readonly pooler?: boolean;
  /** Dropout on the pooled vector while training (BERT: hidden dropout 0.1). Default 0.1. */
  readonly dropout?: number;
}

/** The classification objective plus access to its logits once the trainer has built its head. */
export interface Classifier {
  readonly objective: Objective;
  readonly options: Required<ClassifierOptions>;
  /** Names (within the objective) of the parameters the head created, e.g. `pooler/kernel`. */
  readonly parameterNames: () => readonly string[];
  /**
   * Logits `[rows, numLabels]` from hidden states `[rows, seq, d]` and the attention mask `[rows, seq]`. Only after
   * `objective.head` ran (the session builds it).
   */
  logits(tf: TF, hidden: Tensor3D, attentionMask: Tensor, training: boolean, seed?: number): Tensor2D;
}

export function resolveClassifierOptions(options: ClassifierOptions): Required<ClassifierOptions> {
  if (!(Number.isInteger(options.numLabels) && options.numLabels >= 2)) throw new ConfigError('numLabels', options.numLabels, 'an integer ≥ 2');
  if (!['cls', 'last', 'mean'].includes(options.pooling)) throw new ConfigError('pooling', options.pooling, 'cls, last or mean');
  const dropout = options.dropout ?? 0.1;
  if (!(dropout >= 0 && dropout < 1)) throw new ConfigError('dropout', dropout, 'a number in [0, 1)');
  return { numLabels: options.numLabels, pooling: options.pooling, pooler: options.pooler ?? options.pooling === 'cls', dropout };
}

/**
 * Sequence classification as an objective of the plugin contract, so the trainer's session builds, trains and
 * checkpoints it like any pre-training head: pooled vector → (dense + tanh) → dropout → linear → softmax
 * cross-entropy against the `label` column. Loss term `classify` (sum over rows, counted in rows), metric `accuracy`.
 * Rows come from labelled data (`finetune` builds them), not from unlabelled documents.
 */
export function classifier(input: ClassifierOptions): Classifier {
  const options = resolveClassifierOptions(input);
  let built: ((tf: TF, hidden: Tensor3D, mask: Tensor, training: boolean, seed?: number) => Tensor2D) | null = null;
  const names: string[] = [];

  const head = (ctx: HeadContext) => {
    const d = ctx.model.dModel;
    const k = options.numLabels;
    const v = (name: string, shape: number[], init: Parameters<HeadContext['variable']>[2]): Variable => {
      names.push(name);
      return ctx.variable(name, shape, init);
    };
    const poolerKernel = options.pooler ? v('pooler/kernel', [d, d], { kind: 'normal', std: ctx.model.initializerRange ?? 0.02 }) : null;
    const poolerBias = options.pooler ? v('pooler/bias', [d], { kind: 'zeros' }) : null;
    const kernel = v('classifier/kernel', [d, k], { kind: 'normal', std: ctx.model.initializerRange ?? 0.02 });
    const bias = v('classifier/bias', [k], { kind: 'zeros' });

    built = (tf, hidden, mask, training, seed) => {
      const [b, seq] = hidden.shape as [number, number, number];
      let pooled: Tensor;
      if (options.pooling === 'cls') {
        pooled = tf.reshape(tf.slice(hidden, [0, 0, 0], [b, 1, d]), [b, d]);
      } else {
        // A weight per position ([b, 1, seq]) times the hidden states: a batched matMul instead of a gather.
        const m = tf.cast(tf.reshape(mask, [b, seq]), 'float32');
        let weights: Tensor;
        if (options.pooling === 'last') {
          const last = tf.sub(tf.sum(tf.cast(tf.reshape(mask, [b, seq]), 'int32'), 1), tf.scalar(1, 'int32'));
          weights = tf.oneHot(tf.cast(tf.maximum(last, tf.scalar(0, 'int32')), 'int32') as Tensor & { rank: 1 }, seq);
        } else {
          weights = tf.div(m, tf.maximum(tf.sum(m, 1, true), 1));
        }
        pooled = tf.reshape(tf.matMul(tf.reshape(weights, [b, 1, seq]), hidden), [b, d]);
      }
      if (poolerKernel && poolerBias) pooled = tf.tanh(tf.add(tf.matMul(pooled as Tensor2D, poolerKernel as unknown as Tensor2D), poolerBias));
      if (training && options.dropout > 0) pooled = tf.dropout(pooled, options.dropout, undefined, seed);
      return tf.add(tf.matMul(pooled as Tensor2D, kernel as unknown as Tensor2D), bias) as Tensor2D;
    };

    return {
      terms: { classify: 1 },
      counts: (batch: { size: number; columns: Readonly<Record<string, unknown>> }) => {
        if (!batch.columns[CLASS_LABEL]) throw missingLabel();
        return { classify: batch.size };
      },
      forward(fc: ForwardContext) {
        const { tf } = fc;
        const labels = fc.batch[CLASS_LABEL];
        const mask = fc.batch['attention_mask'];
        if (!labels) throw missingLabel();
        if (!mask) throw new ConfigError('batch.attention_mask', undefined, 'an attention_mask column');
        const logits = built!(tf, fc.hidden(), mask, fc.training, fc.seed);
        const target = tf.cast(tf.reshape(labels, [fc.size]), 'int32') as Tensor & { rank: 1 };
        const picked = tf.sum(tf.mul(logits, tf.oneHot(target, k)), 1);
        const loss = tf.sum(tf.sub(tf.logSumExp(logits, 1), picked)) as Scalar;
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), 'float32')) as Scalar;
        return { sums: { classify: loss }, metrics: { accuracy: { sum: correct, count: fc.size } } };
      },
    };
  };

  const objective: Objective = {
    name: 'classify',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'any',
    writes: [CLASS_LABEL],
    examples: () => {
      throw new ConfigError('classify.examples', 'documents', 'labelled rows: classification examples come from labelled data (finetune builds them), not from unlabelled documents');
    },
    head,
    options: { ...options },
  };
  return {
    objective,
    options,
    parameterNames: () => [...names],
    logits(tf, hidden, mask, training, seed) {
      if (!built) throw new ConfigError('classifier', 'unbuilt', 'a head built by a session first (objective.head)');
      return built(tf, hidden, mask, training, seed);
    },
  };
}

function missingLabel(): ConfigError {
  return new ConfigError(`batch.${CLASS_LABEL}`, undefined, `a "${CLASS_LABEL}" column with each row's class index`);
}

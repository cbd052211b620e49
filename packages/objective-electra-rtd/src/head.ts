import {
  ConfigError,
  IGNORE_INDEX,
  type Backbone,
  type BackboneInputs,
  type Batch,
  type ForwardContext,
  type HeadContext,
  type ObjectiveHead,
  type Scalar,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
} from '@pretext/core';
import { countLabels, crossEntropySum, dense, gatherRows, gelu, layerNorm } from '@pretext/objective-mlm';
import { gumbelNoise, rowSeed } from './sampling.js';

/** The model side of ELECTRA, resolved. */
export interface ElectraHeadConfig {
  /** Generator width as a fraction of the discriminator's (ELECTRA-Small 1/4, Base 1/3); same depth. */
  readonly generatorWidth: number;
  /** Sampling temperature: replacements are drawn from softmax(logits / temperature). ELECTRA: 1. */
  readonly temperature: number;
  /** Weight of the generator's MLM loss (ELECTRA `gen_weight`: 1). */
  readonly generatorWeight: number;
  /** Weight of the discriminator's loss (ELECTRA `disc_weight`: 50). */
  readonly discriminatorWeight: number;
}

/** What the generator did to one batch, on the host. */
export interface Replacement {
  /** Flat positions (`row · seqLen + i`) of the masked tokens, ascending. */
  readonly positions: Int32Array;
  /** The original tokens there (the generator's targets). */
  readonly original: Int32Array;
  /** The generator's samples there. */
  readonly sampled: Int32Array;
  /** The discriminator's inputs `[size · seqLen]`: the masked inputs with every masked token replaced by its sample. */
  readonly fakeIds: Int32Array;
  /** Per token `[size · seqLen]`: 1 where the sample differs from the original, 0 elsewhere (a correct sample is 0). */
  readonly replaced: Uint8Array;
  /** Number of 1s in `replaced`. */
  readonly replacedCount: number;
}

/** ELECTRA's head: also exposes the generator and its sampling step, for inspection and tests. */
export interface ElectraHead extends ObjectiveHead {
  /** The generator transformer (shares the embedding tables with the main backbone). */
  readonly generator: Backbone;
  /**
   * Runs the generator on the batch and samples replacements, as `forward` does first (same seed, same samples).
   * `logits` are the generator's `[masked, vocabSize]` output logits (null when nothing is masked).
   */
  sample(fc: ForwardContext): { readonly replacement: Replacement; readonly logits: Tensor2D | null };
}

/** Number of non-padding tokens (`attention_mask` 1) in a host batch: the discriminator's count. */
export function countTokens(batch: Batch): number {
  const mask = batch.columns.attention_mask;
  if (!mask) throw new ConfigError('batch.attention_mask', undefined, 'an "attention_mask" column; build batches through composeObjectives(...).examples');
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

/**
 * ELECTRA (Clark et al. 2020). The generator — a transformer of the same depth at `generatorWidth` of the width,
 * sharing the word, position and type embeddings — predicts the masked tokens (MLM head: dense + GELU + LayerNorm to
 * the embedding width, tied to the word embeddings, plus a bias). Replacements are sampled from it by Gumbel-max on
 * `logits / temperature`, on the host from a seeded generator, so no gradient flows through the sample. The
 * discriminator (the main backbone) reads the corrupted row; its head (dense + GELU → one logit per token) is trained
 * with binary cross-entropy over every non-padding token ([CLS] and [SEP] included), label 1 only where the sample
 * differs from the original. The discriminator's loss reaches the generator only through the shared embeddings.
 *
 * Terms: `generator` (summed NLL over masked tokens, count = masked tokens) and `discriminator` (summed BCE, count =
 * non-padding tokens), weighted 1 and 50. Metrics: `generator_accuracy` (argmax = original on masked tokens),
 * `detection_accuracy` (over non-padding tokens), `detection_recall` (replaced tokens caught) and `replaced` (share of
 * non-padding tokens replaced: `1 − replaced` is the accuracy of always answering "original").
 */
export function electraHead(ctx: HeadContext, config: ElectraHeadConfig): ElectraHead {
  const { tf, model } = ctx;
  const d = model.dModel;
  const vocab = model.vocabSize;
  const generator = ctx.extraBackbone('generator', { widthFactor: config.generatorWidth });
  const dg = generator.dModel;
  const normal = { kind: 'normal', std: model.initializerRange ?? 0.02 } as const;
  // Names follow Hugging Face's ElectraForPreTraining / ElectraForMaskedLM modules.
  const gKernel = ctx.variable('generator_predictions/dense/kernel', [dg, d], normal);
  const gBias = ctx.variable('generator_predictions/dense/bias', [d], { kind: 'zeros' });
  const gGamma = ctx.variable('generator_predictions/layer_norm/gamma', [d], { kind: 'ones' });
  const gBeta = ctx.variable('generator_predictions/layer_norm/beta', [d], { kind: 'zeros' });
  const gOutBias = ctx.variable('generator_lm_head/bias', [vocab], { kind: 'zeros' });
  const dKernel = ctx.variable('discriminator_predictions/dense/kernel', [d, d], normal);
  const dBias = ctx.variable('discriminator_predictions/dense/bias', [d], { kind: 'zeros' });
  const dOutKernel = ctx.variable('discriminator_predictions/dense_prediction/kernel', [d, 1], normal);
  const dOutBias = ctx.variable('discriminator_predictions/dense_prediction/bias', [1], { kind: 'zeros' });
  const embeddings = ctx.wordEmbeddings as unknown as Tensor2D;

  const inputsOf = (fc: ForwardContext, inputIds: Tensor2D): BackboneInputs => {
    const b = fc.batch;
    return {
      inputIds,
      ...(b.attention_mask ? { attentionMask: b.attention_mask as Tensor2D } : {}),
      ...(b.token_type_ids ? { tokenTypeIds: b.token_type_ids as Tensor2D } : {}),
      ...(b.position_ids ? { positionIds: b.position_ids as Tensor2D } : {}),
      ...(b.document_ids ? { documentIds: b.document_ids as Tensor2D } : {}),
    };
  };

  const run = (fc: ForwardContext) => {
    const labelsT = fc.batch.labels;
    const idsT = fc.batch.input_ids as Tensor2D | undefined;
    if (!labelsT) throw new ConfigError('batch.labels', undefined, 'a "labels" column written by electra-rtd; build batches through composeObjectives(...).examples');
    if (!idsT) throw new ConfigError('batch.input_ids', undefined, 'an "input_ids" column');
    const { size, seqLen } = fc;
    // Positions and samples live on the host: the head runs on the masked tokens only (ELECTRA's gather_positions),
    // and the corrupted row is a fresh int tensor, which is what keeps the sample out of the gradient.
    const labels = labelsT.dataSync() as Int32Array;
    const ids = idsT.dataSync() as Int32Array;
    const rowCounts = new Int32Array(size);
    const seeds = new Uint32Array(size);
    let count = 0;
    for (let r = 0; r < size; r++) {
      for (let i = r * seqLen; i < (r + 1) * seqLen; i++) if (labels[i] !== IGNORE_INDEX) rowCounts[r]!++;
      count += rowCounts[r]!;
      seeds[r] = rowSeed(fc.seed, ids, labels, r * seqLen, (r + 1) * seqLen);
    }
    const positions = new Int32Array(count);
    const original = new Int32Array(count);
    for (let i = 0, k = 0; i < labels.length; i++) {
      if (labels[i] !== IGNORE_INDEX) {
        positions[k] = i;
        original[k++] = labels[i]!;
      }
    }
    const genHidden = generator.apply(inputsOf(fc, idsT), fc.training) as Tensor3D;
    const fakeIds = Int32Array.from(ids);
    const replaced = new Uint8Array(ids.length);
    let replacedCount = 0;
    if (count === 0) {
      const replacement: Replacement = { positions, original, sampled: new Int32Array(0), fakeIds, replaced, replacedCount };
      return { replacement, logits: null, genHidden };
    }
    const picked = gatherRows(tf, tf.reshape(genHidden, [size * seqLen, dg]) as Tensor2D, tf.tensor1d(positions, 'int32'));
    const h = layerNorm(tf, gelu(tf, dense(tf, picked, gKernel, gBias)), gGamma, gBeta) as Tensor2D;
    const logits = tf.add(tf.matMul(h, embeddings, false, true), gOutBias) as Tensor2D;
    const noise = tf.tensor2d(gumbelNoise(rowCounts, seeds, vocab), [count, vocab]);
    const scores = config.temperature === 1 ? logits : tf.div(logits, config.temperature);
    const sampled = Int32Array.from(tf.argMax(tf.add(scores, noise), 1).dataSync());
    for (let k = 0; k < count; k++) {
      const p = positions[k]!;
      fakeIds[p] = sampled[k]!;
      if (sampled[k] !== original[k]) {
        replaced[p] = 1;
        replacedCount++;
      }
    }
    return { replacement: { positions, original, sampled, fakeIds, replaced, replacedCount } satisfies Replacement, logits, genHidden };
  };

  return {
    generator,
    terms: { generator: config.generatorWeight, discriminator: config.discriminatorWeight },
    counts: (batch) => ({ generator: countLabels(batch), discriminator: countTokens(batch) }),
    sample(fc) {
      const { replacement, logits } = run(fc);
      return { replacement, logits };
    },
    forward(fc: ForwardContext) {
      const { size, seqLen } = fc;
      const { replacement, logits, genHidden } = run(fc);
      const count = replacement.positions.length;

      let genSum: Scalar;
      let genCorrect: Scalar;
      if (logits) {
        const target = tf.tensor1d(replacement.original, 'int32');
        genSum = crossEntropySum(fc, logits, target);
        genCorrect = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), 'float32')) as Scalar;
      } else {
        // Nothing masked: keep the term connected to the generator (zero gradient), so every batch's gradient has
        // the same parameters whether or not it masked anything.
        const all: Tensor[] = [genHidden, gKernel, gBias, gGamma, gBeta, gOutBias];
        genSum = tf.mul(tf.addN(all.map((t) => tf.sum(t))), 0) as Scalar;
        genCorrect = tf.scalar(0);
      }

      const fake = tf.tensor2d(replacement.fakeIds, [size, seqLen], 'int32');
      const hidden = ctx.backbone.apply(inputsOf(fc, fake), fc.training);
      const rows = size * seqLen;
      const x = tf.reshape(
        tf.add(tf.matMul(gelu(tf, dense(tf, tf.reshape(hidden, [rows, d]) as Tensor2D, dKernel, dBias)) as Tensor2D, dOutKernel as unknown as Tensor2D), dOutBias),
        [rows],
      );
      const y = tf.tensor1d(Float32Array.from(replacement.replaced), 'float32');
      const attention = fc.batch.attention_mask;
      if (!attention) throw new ConfigError('batch.attention_mask', undefined, 'an "attention_mask" column');
      const weight = tf.reshape(tf.cast(attention, 'float32'), [rows]);
      // Binary cross-entropy with logits, stable form: max(x, 0) − x·y + log(1 + e^−|x|).
      const bce = tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
      const discSum = tf.sum(tf.mul(bce, weight)) as Scalar;
      const predicted = tf.cast(tf.greater(x, 0), 'float32');
      const detected = tf.sum(tf.mul(tf.cast(tf.equal(predicted, y), 'float32'), weight)) as Scalar;
      const caught = tf.sum(tf.mul(tf.mul(predicted, y), weight)) as Scalar;
      const tokens = countWhere(attention.dataSync());

      return {
        sums: { generator: genSum, discriminator: discSum },
        metrics: {
          generator_accuracy: { sum: genCorrect, count },
          detection_accuracy: { sum: detected, count: tokens },
          detection_recall: { sum: caught, count: replacement.replacedCount },
          replaced: { sum: tf.scalar(replacement.replacedCount), count: tokens },
        },
      };
    },
  };
}

function countWhere(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i]) n++;
  return n;
}

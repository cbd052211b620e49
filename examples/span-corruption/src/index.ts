import {
  ConfigError,
  IGNORE_INDEX,
  OBJECTIVE_CONTRACT_VERSION,
  type Batch,
  type DataContext,
  type Example,
  type Objective,
  type Rng,
  type Scalar,
  type Tensor2D,
  type TokenizedDocument,
} from '@pretext/core';
import { spanMaskOver } from './spans.js';

/*
 * Made with `nx g @pretext/tools:objective span-corruption --directory examples/span-corruption`, then changed in
 * two places: the options, and the template's `choosePositions` became T5's span selection (./spans.ts). The
 * walk-through is docs/writing-an-objective.md. The contract has three sides:
 * - data: `examples` turns tokenized documents into padded rows (typed arrays, Hugging Face column names);
 *   randomness comes only from `ctx.rng`, so a seed fixes every row.
 * - model: `head` creates parameters with `hc.variable` and reads the backbone's hidden states with `fc.hidden()`.
 * - loss: `forward` returns per-term sums (not means) and `counts` the items each term sums over, from the host batch
 *   alone; the trainer divides by the count over all accumulated micro-batches, so accumulation is exact.
 * `pretext train --objective <module>` calls the module's only exported function (or its default export): the span
 * selection lives in ./spans.ts.
 */

export interface SpanCorruptionOptions {
  /** Share of a row's tokens that are corrupted (T5's `noise_density`). Default 0.15. */
  readonly noiseDensity?: number;
  /** Mean length of a corrupted span (T5's `mean_noise_span_length`). Default 3. */
  readonly meanSpanLength?: number;
  /**
   * Rotate each row's mask by a random offset (T5's `random_roll`). Default true: without it the mask always starts
   * with clean tokens, and a row with one span (up to ~30 tokens at density 0.15) always has it at its end.
   */
  readonly randomRoll?: boolean;
}

/** The loss term: summed negative log-likelihood of the corrupted tokens. */
const TERM = 'tokens';

/**
 * T5-style span corruption for an encoder: random spans of tokens masked, every original token predicted.
 *
 * Rows `[CLS] tokens [SEP]` cut from each document. In each row T5's `random_spans_noise_mask` picks
 * `round(noiseDensity · n)` of the n tokens, in `round(that / meanSpanLength)` spans separated by uncorrupted
 * tokens. T5 replaces each span by one sentinel and has a decoder write the spans out; an encoder keeps the row's
 * length, so every token of a span becomes `[MASK]` and is predicted at its own position, through the word
 * embeddings (tied output). Loss term `tokens`, metric `accuracy`.
 */
export function spanCorruption(options: SpanCorruptionOptions = {}): Objective {
  const noiseDensity = options.noiseDensity ?? 0.15;
  const meanSpanLength = options.meanSpanLength ?? 3;
  const randomRoll = options.randomRoll ?? true;
  if (!(typeof noiseDensity === 'number' && noiseDensity > 0 && noiseDensity < 1)) {
    throw new ConfigError('span-corruption.noiseDensity', noiseDensity, 'a number in (0, 1) (T5: 0.15)');
  }
  if (!(typeof meanSpanLength === 'number' && meanSpanLength >= 1 && Number.isFinite(meanSpanLength))) {
    throw new ConfigError('span-corruption.meanSpanLength', meanSpanLength, 'a number of at least 1 (T5: 3)');
  }
  if (typeof randomRoll !== 'boolean') throw new ConfigError('span-corruption.randomRoll', randomRoll, 'true or false');
  const choose = (candidate: Uint8Array, rng: Rng) => spanMaskOver(candidate, noiseDensity, meanSpanLength, randomRoll, rng);
  return {
    name: 'span-corruption',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: ['labels'],
    // Declare objectives that cannot train next to this one, with the reason the error will show.
    incompatible: { mlm: 'both predict masked tokens into the "labels" column; keep one of them' },
    examples: (docs, ctx) => rows(docs, ctx, choose),
    head(hc) {
      const { tf, model } = hc;
      const d = model.dModel;
      // Names become `span-corruption/transform/kernel` etc. in checkpoints.
      const kernel = hc.variable('transform/kernel', [d, d], { kind: 'normal', std: 0.02 });
      const bias = hc.variable('transform/bias', [d], { kind: 'zeros' });
      const outputBias = hc.variable('output/bias', [model.vocabSize], { kind: 'zeros' });
      return {
        terms: { [TERM]: 1 },
        counts: (batch) => ({ [TERM]: countLabels(batch) }),
        forward(fc) {
          const labels = fc.batch.labels;
          if (!labels) throw new ConfigError('batch.labels', undefined, 'a "labels" column; build batches with composeObjectives(...).examples');
          // Chosen positions are read on the host so the output layer runs on them only, not on every token.
          const flat = labels.dataSync();
          const positions: number[] = [];
          const targets: number[] = [];
          flat.forEach((label, i) => {
            if (label !== IGNORE_INDEX) {
              positions.push(i);
              targets.push(label);
            }
          });
          if (positions.length === 0) {
            // Nothing to predict: a zero that stays connected to the parameters (zero gradient, never 0/0).
            const zero = tf.mul(tf.sum(outputBias), 0) as Scalar;
            return { sums: { [TERM]: zero }, metrics: { accuracy: { sum: tf.clone(zero), count: 0 } } };
          }
          const hidden = tf.reshape(fc.hidden(), [fc.size * fc.seqLen, d]) as Tensor2D;
          const picked = tf.gather(hidden, tf.tensor1d(positions, 'int32')) as Tensor2D;
          const transformed = tf.tanh(tf.add(tf.matMul(picked, kernel as unknown as Tensor2D), bias)) as Tensor2D;
          const logits = tf.add(tf.matMul(transformed, hc.wordEmbeddings as unknown as Tensor2D, false, true), outputBias) as Tensor2D;
          const target = tf.tensor1d(targets, 'int32');
          // Σ −log softmax(logits)[target], the stable way.
          const chosen = tf.sum(tf.mul(logits, tf.oneHot(target, model.vocabSize)), 1);
          const nll = tf.sum(tf.sub(tf.logSumExp(logits, 1), chosen)) as Scalar;
          const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), 'float32')) as Scalar;
          return { sums: { [TERM]: nll }, metrics: { accuracy: { sum: correct, count: positions.length } } };
        },
      };
    },
    options: { noiseDensity, meanSpanLength, randomRoll },
    // Lets the CLI, worker threads and resumed runs rebuild this objective.
    origin: { module: '@pretext/example-span-corruption', factory: 'spanCorruption', options: { ...options } },
  };
}

/** Number of labelled tokens in a host batch: the count of the `tokens` term. */
function countLabels(batch: Batch): number {
  const labels = batch.columns.labels;
  if (!labels) throw new ConfigError('batch.labels', undefined, 'a "labels" column; build batches with composeObjectives(...).examples');
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) n++;
  return n;
}

/** Rows `[CLS] tokens [SEP]` (padded to `seqLen`), the chosen tokens replaced by `[MASK]` and labelled. */
async function* rows(
  docs: AsyncIterable<TokenizedDocument>,
  ctx: DataContext,
  choose: (candidate: Uint8Array, rng: Rng) => Uint8Array,
): AsyncGenerator<Example> {
  const { seqLen, special } = ctx;
  const cls = special.cls ?? special.bos;
  const sep = special.sep ?? special.eos;
  const mask = special.mask;
  if (cls === undefined || sep === undefined || mask === undefined) {
    throw new ConfigError('span-corruption: special tokens', special, 'a tokenizer with [CLS], [SEP] (or bos, eos) and [MASK]');
  }
  const body = seqLen - 2;
  if (body < 1) throw new ConfigError('seqLen', seqLen, 'at least 3 for [CLS] tokens [SEP]');
  for await (const doc of docs) {
    for (let from = 0; from < doc.ids.length; from += body) {
      const piece = doc.ids.subarray(from, Math.min(from + body, doc.ids.length));
      const n = piece.length + 2;
      const inputIds = new Int32Array(seqLen).fill(special.pad);
      const attention = new Uint8Array(seqLen);
      const specialMask = new Uint8Array(seqLen).fill(1);
      inputIds[0] = cls;
      inputIds.set(piece, 1);
      inputIds[n - 1] = sep;
      attention.fill(1, 0, n);
      specialMask.fill(0, 1, n - 1);
      const candidate = Uint8Array.from(specialMask, (s, i) => (attention[i] && !s ? 1 : 0));
      const chosen = choose(candidate, ctx.rng);
      const labels = new Int32Array(seqLen).fill(IGNORE_INDEX);
      for (let i = 0; i < seqLen; i++) {
        if (!chosen[i]) continue;
        labels[i] = inputIds[i]!;
        inputIds[i] = mask;
      }
      yield { input_ids: inputIds, attention_mask: attention, special_tokens_mask: specialMask, labels };
    }
  }
}

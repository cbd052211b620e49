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

/*
 * Scaffolded by `nx g @pretext/tools:objective span-corruption`: a small, complete objective (masked-token prediction)
 * to turn into yours. See docs/writing-an-objective.md. The contract has three sides:
 * - data: `examples` turns tokenized documents into padded rows (typed arrays, Hugging Face column names);
 *   randomness comes only from `ctx.rng`, so a seed fixes every row.
 * - model: `head` creates parameters with `hc.variable` and reads the backbone's hidden states with `fc.hidden()`.
 * - loss: `forward` returns per-term sums (not means) and `counts` the items each term sums over, from the host batch
 *   alone; the trainer divides by the count over all accumulated micro-batches, so accumulation is exact.
 */

export interface SpanCorruptionOptions {
  /** Share of tokens chosen for prediction. Default 0.15. */
  readonly probability?: number;
}

/** The loss term: summed negative log-likelihood of the chosen tokens. */
const TERM = 'tokens';

/**
 * T5-style span corruption for an encoder: random spans of tokens masked, every original token predicted.
 *
 * Rows `[CLS] tokens [SEP]` cut from each document; each token (never a special one) is chosen with `probability`,
 * at least one per row, replaced by `[MASK]` and predicted from the hidden state at its position through the
 * word embeddings (tied output). Loss term `tokens`, metric `accuracy`.
 */
export function spanCorruption(options: SpanCorruptionOptions = {}): Objective {
  const probability = options.probability ?? 0.15;
  if (!(typeof probability === 'number' && probability > 0 && probability < 1)) {
    throw new ConfigError('span-corruption.probability', probability, 'a number in (0, 1)');
  }
  return {
    name: 'span-corruption',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: ['labels'],
    // Declare objectives that cannot train next to this one, with the reason the error will show.
    incompatible: { mlm: 'both predict masked tokens into the "labels" column; keep one of them' },
    examples: (docs, ctx) => rows(docs, ctx, probability),
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
    options: { probability },
    // Lets the CLI, worker threads and resumed runs rebuild this objective.
    origin: { module: '@pretext/example-span-corruption', factory: 'spanCorruption', options: { ...options } },
  };
}

/** Number of labelled tokens in a host batch: the count of the `tokens` term. */
export function countLabels(batch: Batch): number {
  const labels = batch.columns.labels;
  if (!labels) throw new ConfigError('batch.labels', undefined, 'a "labels" column; build batches with composeObjectives(...).examples');
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) n++;
  return n;
}

/**
 * Chooses the tokens to predict in one row: 1 where chosen. `candidate[i]` is 1 for tokens that may be chosen (not
 * special, not padding). Each is chosen with `probability`; a row that drew none gets one, so no row predicts nothing.
 */
export function choosePositions(candidate: Uint8Array, probability: number, rng: Rng): Uint8Array {
  const chosen = new Uint8Array(candidate.length);
  let any = false;
  let candidates = 0;
  for (let i = 0; i < candidate.length; i++) {
    if (!candidate[i]) continue;
    candidates++;
    if (rng.float() < probability) {
      chosen[i] = 1;
      any = true;
    }
  }
  if (!any && candidates > 0) {
    let k = rng.int(candidates);
    for (let i = 0; i < candidate.length; i++) if (candidate[i] && k-- === 0) chosen[i] = 1;
  }
  return chosen;
}

/** Rows `[CLS] tokens [SEP]` (padded to `seqLen`), the chosen tokens replaced by `[MASK]` and labelled. */
async function* rows(docs: AsyncIterable<TokenizedDocument>, ctx: DataContext, probability: number): AsyncGenerator<Example> {
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
      const chosen = choosePositions(candidate, probability, ctx.rng);
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

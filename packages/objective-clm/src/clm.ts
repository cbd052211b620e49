import {
  ConfigError,
  IGNORE_INDEX,
  OBJECTIVE_CONTRACT_VERSION,
  type Batch,
  type DataContext,
  type Example,
  type HeadContext,
  type Objective,
  type ObjectiveHead,
  type Scalar,
  type TF,
  type Tensor,
  type Tensor2D,
  type TokenizedDocument,
} from '@pretext/core';

/** Options of {@link clm}; the defaults are Megatron-LM's (all off). */
export interface ClmOptions {
  /** Restart position ids at 0 after every end-of-document token (Megatron `reset_position_ids`). Default false. */
  readonly resetPositionIds?: boolean;
  /** Let tokens attend only within their own document (Megatron `reset_attention_mask`). Default false. */
  readonly resetAttentionMask?: boolean;
  /** Do not predict the token that follows an end-of-document token (Megatron `eod_mask_loss`). Default false. */
  readonly eodMaskLoss?: boolean;
}

/**
 * Causal language modelling, packed Megatron-style.
 *
 * Documents, each followed by `special.eos`, are concatenated and cut into rows of `seqLen + 1` tokens that carry
 * across document boundaries; consecutive rows share one token so every token is predicted exactly once.
 * `input_ids = row[:-1]`, `labels = row[1:]`. The final partial row is padded (`attention_mask` 0, labels ignored).
 * The head is the language-model output tied to the word embeddings plus a bias; its loss term `lm` is the sum of
 * token cross-entropies over labels that are not `IGNORE_INDEX`, and `counts` is the number of such labels.
 */
export function clm(options: ClmOptions = {}): Objective {
  const resolved = {
    resetPositionIds: options.resetPositionIds ?? false,
    resetAttentionMask: options.resetAttentionMask ?? false,
    eodMaskLoss: options.eodMaskLoss ?? false,
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (typeof value !== 'boolean') throw new ConfigError(`clm.${key}`, value, 'true or false');
  }
  const writes = ['labels'];
  if (resolved.resetPositionIds) writes.push('position_ids');
  if (resolved.resetAttentionMask) writes.push('document_ids');
  return {
    name: 'clm',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'decoder',
    writes,
    examples: (docs, ctx) => packDocuments(docs, ctx, resolved),
    head: (ctx) => clmHead(ctx),
    options: resolved,
    origin: { module: '@pretext/objective-clm', factory: 'clm', options: resolved },
  };
}

async function* packDocuments(
  docs: AsyncIterable<TokenizedDocument>,
  ctx: DataContext,
  options: Required<ClmOptions>,
): AsyncIterable<Example> {
  const eos = ctx.special.eos;
  if (eos === undefined) {
    throw new ConfigError('special.eos', eos, 'an end-of-document token id: clm separates packed documents with it (use a tokenizer that defines one)');
  }
  const seqLen = ctx.seqLen;
  if (!(Number.isInteger(seqLen) && seqLen >= 2)) throw new ConfigError('seqLen', seqLen, 'an integer >= 2');
  const rowLen = seqLen + 1;
  // One row buffer; a filled row is emitted and its last token becomes the next row's first.
  let row = new Int32Array(rowLen);
  let fill = 0;
  for await (const doc of docs) {
    const ids = doc.ids;
    let offset = 0;
    // Copy the document then its EOS; `ids.length + 1` tokens in all.
    while (offset <= ids.length) {
      if (offset === ids.length) {
        row[fill++] = eos;
        offset++;
      } else {
        const n = Math.min(rowLen - fill, ids.length - offset);
        row.set(ids.subarray(offset, offset + n), fill);
        fill += n;
        offset += n;
      }
      if (fill === rowLen) {
        yield makeExample(row, rowLen, ctx, options);
        const last = row[rowLen - 1]!;
        row = new Int32Array(rowLen);
        row[0] = last;
        fill = 1;
      }
    }
  }
  // A partial row holds at least one prediction when it has two tokens.
  if (fill >= 2) yield makeExample(row, fill, ctx, options);
}

/** Builds one example from `row[0..filled)`; positions at or past `filled - 1` are padding. */
function makeExample(row: Int32Array, filled: number, ctx: DataContext, options: Required<ClmOptions>): Example {
  const seqLen = ctx.seqLen;
  const eos = ctx.special.eos!;
  const n = filled - 1; // real input positions
  const input_ids = new Int32Array(seqLen).fill(ctx.special.pad);
  const attention_mask = new Uint8Array(seqLen);
  const labels = new Int32Array(seqLen).fill(IGNORE_INDEX);
  input_ids.set(row.subarray(0, n));
  attention_mask.fill(1, 0, n);
  labels.set(row.subarray(1, n + 1));
  if (options.eodMaskLoss) {
    for (let i = 0; i < n; i++) if (input_ids[i] === eos) labels[i] = IGNORE_INDEX;
  }
  const example: Example = { input_ids, attention_mask, labels };
  if (options.resetPositionIds || options.resetAttentionMask) {
    // A document ends at its EOS; the next one starts right after it (Megatron's get_ltor_masks_and_position_ids).
    const position_ids = new Int32Array(seqLen);
    const document_ids = new Int32Array(seqLen);
    let pos = 0;
    let docId = 0;
    for (let i = 0; i < seqLen; i++) {
      position_ids[i] = pos++;
      document_ids[i] = docId;
      if (i < n && input_ids[i] === eos) {
        pos = 0;
        docId++;
      }
    }
    // Padding is its own document so that no real token attends to it.
    for (let i = n; i < seqLen; i++) document_ids[i] = docId + 1;
    if (options.resetPositionIds) example.position_ids = position_ids;
    if (options.resetAttentionMask) example.document_ids = document_ids;
  }
  return example;
}

function clmHead(ctx: HeadContext): ObjectiveHead {
  const { tf } = ctx;
  const vocabSize = ctx.model.vocabSize;
  const bias = ctx.variable('bias', [vocabSize], { kind: 'zeros' });
  const logits = (hidden: Tensor2D): Tensor2D =>
    tf.add(tf.matMul(hidden, ctx.wordEmbeddings, false, true), bias) as Tensor2D;
  return {
    terms: { lm: 1 },
    counts: (batch: Batch) => ({ lm: countLabels(batch) }),
    logits,
    forward(fctx) {
      const hidden = fctx.hidden();
      const dModel = hidden.shape[2];
      const rows = fctx.size * fctx.seqLen;
      const labelsTensor = fctx.batch['labels'];
      if (!labelsTensor) throw new ConfigError('batch.labels', undefined, 'a labels column written by clm examples');
      const labels = tf.reshape(labelsTensor, [rows]);
      const mask = tf.notEqual(labels, tf.scalar(IGNORE_INDEX, 'int32'));
      const safe = tf.where(mask, labels, tf.zerosLike(labels));
      const maskF = tf.cast(mask, 'float32');
      const out = logits(tf.reshape(hidden, [rows, dModel]) as Tensor2D);
      const ce = sparseCrossEntropy(tf, out, safe as Tensor, rows, vocabSize);
      const sum = tf.sum(tf.mul(ce, maskF)) as Scalar;
      // Accuracy only when evaluating: an argMax over [rows, vocab] every training step costs time for a number
      // that validation reports anyway.
      if (fctx.training) return { sums: { lm: sum } };
      const correct = tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(out, 1), safe), 'float32'), maskF)) as Scalar;
      return { sums: { lm: sum }, metrics: { accuracy: { sum: correct, count: countLabelsTensorFree(fctx.batch) } } };
    },
  };
}

/**
 * Per-row cross-entropy `logsumexp(logits) − logits[label]` with a hand-written gradient `(softmax − onehot)·dy`.
 * The softmax from the forward pass is kept for the backward pass, so the [rows, vocab] exponentials run once;
 * tf.losses.softmaxCrossEntropy runs them three times and also differentiates the one-hot labels.
 */
function sparseCrossEntropy(tf: TF, logits: Tensor, labels: Tensor, rows: number, vocabSize: number): Tensor {
  const flatIndex = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocabSize, 'int32')), tf.cast(labels, 'int32'));
  const op = tf.customGrad(((x: Tensor, save: (t: Tensor[]) => void) => {
    // The backend's softmax kernel (XNNPACK's on wasm: about 1 ns per element, against 8 for Exp and three more
    // passes for the shift, sum and division). logsumexp = max − log(p_max), and p_max ≥ 1/vocab, so its log
    // never underflows however wrong the prediction.
    const probs = tf.softmax(x);
    const lse = tf.sub(tf.max(x, 1), tf.log(tf.max(probs, 1)));
    const picked = tf.gather(tf.reshape(x, [-1]), flatIndex);
    save([probs, tf.reshape(flatIndex, [rows, 1])]);
    const gradFunc = (dy: Tensor, saved: Tensor[]) => {
      const [p, index] = saved as [Tensor, Tensor];
      const scaled = tf.mul(p, tf.reshape(dy, [rows, 1]));
      const hit = tf.reshape(tf.scatterND(index, dy, [rows * vocabSize]), [rows, vocabSize]);
      return [tf.sub(scaled, hit)];
    };
    return { value: tf.sub(lse, picked), gradFunc };
  }) as never) as unknown as (x: Tensor) => Tensor;
  return op(logits);
}

function countLabels(batch: Batch): number {
  const labels = batch.columns['labels'];
  if (!labels) return 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) n++;
  return n;
}

/** The metric's count must be a host number; the trainer also passes the host batch to `counts`, so read it there. */
function countLabelsTensorFree(batch: Readonly<Record<string, Tensor>>): number {
  const labels = batch['labels'];
  if (!labels) return 0;
  const values = labels.dataSync();
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== IGNORE_INDEX) n++;
  return n;
}

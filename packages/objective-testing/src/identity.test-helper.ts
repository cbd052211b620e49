import { IGNORE_INDEX, OBJECTIVE_CONTRACT_VERSION, type Objective, type Scalar, type Tensor2D } from '@pretext/core';

/**
 * The smallest real objective: rows `[CLS] tokens [SEP]`, half of the tokens (chosen by the seeded rng) labelled
 * with themselves, predicted through the tied embeddings. It exercises every check of the suite.
 */
export function identity(): Objective {
  return {
    name: 'identity',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: ['labels'],
    options: {},
    async *examples(docs, ctx) {
      const body = ctx.seqLen - 2;
      for await (const doc of docs) {
        for (let from = 0; from < doc.ids.length; from += body) {
          const part = doc.ids.subarray(from, Math.min(from + body, doc.ids.length));
          const ids = new Int32Array(ctx.seqLen).fill(ctx.special.pad);
          const attention = new Uint8Array(ctx.seqLen);
          const special = new Uint8Array(ctx.seqLen).fill(1);
          const labels = new Int32Array(ctx.seqLen).fill(IGNORE_INDEX);
          ids[0] = ctx.special.cls!;
          ids.set(part, 1);
          ids[part.length + 1] = ctx.special.sep!;
          attention.fill(1, 0, part.length + 2);
          special.fill(0, 1, part.length + 1);
          for (let i = 1; i <= part.length; i++) if (ctx.rng.bernoulli(0.5)) labels[i] = ids[i]!;
          yield { input_ids: ids, attention_mask: attention, special_tokens_mask: special, labels };
        }
      }
    },
    head(hc) {
      const bias = hc.variable('bias', [hc.model.vocabSize], { kind: 'zeros' });
      return {
        terms: { identity: 1 },
        counts: (batch) => ({ identity: (batch.columns.labels as Int32Array).filter((x) => x !== IGNORE_INDEX).length }),
        forward(fc) {
          const { tf: t } = fc;
          const labels = t.reshape(fc.batch.labels!, [-1]);
          const weight = t.cast(t.notEqual(labels, IGNORE_INDEX), 'float32');
          const h = t.reshape(fc.hidden(), [-1, hc.model.dModel]) as Tensor2D;
          const logits = t.add(t.matMul(h, hc.wordEmbeddings as unknown as Tensor2D, false, true), bias) as Tensor2D;
          const target = t.oneHot(t.cast(t.maximum(labels, 0), 'int32') as never, hc.model.vocabSize);
          const nll = t.sub(t.logSumExp(logits, 1), t.sum(t.mul(logits, target), 1));
          return { sums: { identity: t.sum(t.mul(nll, weight)) as Scalar } };
        },
      };
    },
  };
}

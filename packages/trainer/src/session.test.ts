import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, collate, composeObjectives, type Example, type TF } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments, stream } from '@pretext/test-fixtures';
import { selectBackend } from './backend.js';
import { resolveModelConfig } from './model.js';
import { Session } from './session.js';

const docs = bookDocuments('gutenberg/markovify/sherlock.txt', 400);
let tf: TF;
beforeAll(async () => {
  tf = (await selectBackend({ backend: 'wasm' })).tf;
});

async function firstExamples(objective: ReturnType<typeof clm>, n: number, seqLen: number): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of objective.examples!(stream(docs), { seqLen, vocabSize: BYTE_VOCAB, special: BYTE_SPECIAL, rng: new Rng(3) })) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

function session(objective: ReturnType<typeof clm>, seqLen = 32): Session {
  const composition = composeObjectives([objective]);
  const model = resolveModelConfig({ architecture: 'decoder', dModel: 32, nLayers: 2, nHeads: 4, dFF: 64, maxPositions: 64, dropout: 0 }, 'decoder');
  return new Session({ tf, backend: 'wasm', composition, model, vocabSize: BYTE_VOCAB, seqLen, seed: 11 });
}

describe('Session', () => {
  it('k micro-batches give the full batch gradient (within 1e-5), even with unequal label counts', async () => {
    const s = session(clm());
    // The last example is a padded partial row, so micro-batches hold different numbers of labels.
    const all = await firstExamples(clm(), 8, 32);
    const partial = { ...all[7]! };
    partial.attention_mask = partial.attention_mask.map((m, i) => (i < 9 ? m : 0));
    partial.labels = (partial.labels as Int32Array).map((l, i) => (i < 9 ? l : -100));
    all[7] = partial;
    const full = s.gradients([collate(all)], 1);
    const micro = s.gradients([0, 2, 4, 6].map((i) => collate(all.slice(i, i + 2))), 1);
    expect(micro.counts['clm.lm']).toBe(full.counts['clm.lm']);
    expect(micro.loss).toBeCloseTo(full.loss, 5);
    let maxDiff = 0;
    let maxAbs = 0;
    for (const [name, g] of full.grads) {
      const a = g.dataSync();
      const b = micro.grads.get(name)!.dataSync();
      for (let i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
      }
    }
    expect(maxAbs).toBeGreaterThan(1e-3); // gradients are not trivially zero
    expect(maxDiff).toBeLessThan(1e-5);
    // Averaging per micro-batch means instead (the classic bug) would not match.
    const naive = [0, 2, 4, 6].map((i) => s.gradients([collate(all.slice(i, i + 2))], 1));
    const wte = full.grads.get('backbone/wte')!.dataSync();
    const naiveWte = naive.map((r) => r.grads.get('backbone/wte')!.dataSync());
    let naiveDiff = 0;
    for (let i = 0; i < wte.length; i++) naiveDiff = Math.max(naiveDiff, Math.abs(wte[i]! - naiveWte.reduce((acc, g) => acc + g[i]! / 4, 0)));
    expect(naiveDiff).toBeGreaterThan(1e-5);
    for (const r of [full, micro, ...naive]) for (const g of r.grads.values()) g.dispose();
    s.dispose();
  });

  it('with attention and position reset, no token sees another document', async () => {
    const objective = clm({ resetAttentionMask: true, resetPositionIds: true });
    const s = session(objective, 64);
    const examples = await firstExamples(objective, 40, 64);
    // A row holding several documents.
    const row = examples.find((e) => new Set(e.document_ids).size >= 3 && e.attention_mask.every((m) => m === 1))!;
    expect(row).toBeDefined();
    const docIds = row.document_ids!;
    const target = docIds[63]!; // the last document in the row
    const hidden = (ex: Example) =>
      tf.tidy(() => {
        const b = collate([ex]);
        const t = (name: string) => tf.tensor2d(b.columns[name] as Int32Array, [1, 64], 'int32');
        return s.backbone
          .apply({ inputIds: t('input_ids'), attentionMask: tf.tensor2d(Int32Array.from(b.columns['attention_mask']!), [1, 64], 'int32'), positionIds: t('position_ids'), documentIds: t('document_ids') }, false)
          .dataSync();
      });
    const base = hidden(row);
    // Change every token of the other documents.
    const changed = { ...row, input_ids: row.input_ids.map((id, i) => (docIds[i] === target ? id : (id + 37) % 256)) };
    const after = hidden(changed);
    const d = 32;
    let inside = 0;
    let outside = 0;
    for (let i = 0; i < 64; i++) {
      for (let k = 0; k < d; k++) {
        const diff = Math.abs(base[i * d + k]! - after[i * d + k]!);
        if (docIds[i] === target) inside = Math.max(inside, diff);
        else outside = Math.max(outside, diff);
      }
    }
    expect(inside).toBe(0);
    expect(outside).toBeGreaterThan(1e-3);
    // Without the reset the same change leaks into the last document (the control).
    const plain = session(clm(), 64);
    const leak = (ex: Example) =>
      tf.tidy(() => plain.backbone.apply({ inputIds: tf.tensor2d(ex.input_ids, [1, 64], 'int32') }, false).dataSync());
    const p0 = leak(row);
    const p1 = leak(changed);
    let leaked = 0;
    for (let i = 0; i < 64; i++) if (docIds[i] === target) for (let k = 0; k < d; k++) leaked = Math.max(leaked, Math.abs(p0[i * d + k]! - p1[i * d + k]!));
    expect(leaked).toBeGreaterThan(1e-4);
    s.dispose();
    plain.dispose();
  });

  it('the clm loss equals the mean token cross-entropy computed on the host', async () => {
    const s = session(clm());
    const examples = await firstExamples(clm(), 2, 32);
    const batch = collate(examples);
    const result = s.evaluate([batch]);
    // Reference: logits from the tied embeddings and the bias, log-softmax on the host.
    const logits = tf.tidy(() => {
      const ids = tf.tensor2d(batch.columns['input_ids'] as Int32Array, [2, 32], 'int32');
      const h = tf.reshape(s.backbone.apply({ inputIds: ids, attentionMask: tf.tensor2d(Int32Array.from(batch.columns['attention_mask']!), [2, 32], 'int32') }, false), [64, 32]);
      return tf.add(tf.matMul(h, s.store.get('backbone/wte'), false, true), s.store.get('clm/bias')).dataSync();
    });
    const labels = batch.columns['labels'] as Int32Array;
    let sum = 0;
    let n = 0;
    for (let r = 0; r < 64; r++) {
      if (labels[r] === -100) continue;
      const row = logits.subarray(r * BYTE_VOCAB, (r + 1) * BYTE_VOCAB);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      sum += lse - row[labels[r]!]!;
      n++;
    }
    expect(result.values['clm.lm']).toBeCloseTo(sum / n, 4);
    expect(Math.abs(sum / n - Math.log(BYTE_VOCAB))).toBeLessThan(0.1); // an untrained model is near uniform
    s.dispose();
  });
});

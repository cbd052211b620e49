/**
 * Why tiny models' [CLS] heads sit at chance: gradient norms per parameter group, and how much the pooled vector varies
 * across rows, while a classifier trains on SpamAssassin (600 messages, stratified split) with a constant learning rate.
 *
 *   npx tsx --conditions=@pretext/source bench/plateau.ts [cls|mean|last] [post|pre] [lr] [seconds] [init scale]
 *
 * `last` trains a causal decoder (pre-LN) with last-token pooling; the others a BERT-style encoder (d 64, 2 layers).
 * `init scale` multiplies every attention and MLP kernel after the trainer initialised it (std 0.02, GPT-2/BERT's
 * value for d 768) to test the diagnosis: e.g. 3.5 ≈ √(768/64). Measured results are in docs/fine-tuning.md.
 */
import { composeObjectives, type Batch } from '@pretext/core';
import { trainWordPiece } from '@pretext/tokenizers';
import { resolveModelConfig, selectBackend } from '@pretext/trainer';
import { CLASS_LABEL, classifier, encodeAll, spamAssassin, stratifiedSplit } from '../src/index.js';
import { trainerInternals } from '../src/internals.js';

const pooling = (process.argv[2] ?? 'cls') as 'cls' | 'mean' | 'last';
const preLN = pooling === 'last' || process.argv[3] === 'pre';
const lr = Number(process.argv[4] ?? 1e-3);
const seconds = Number(process.argv[5] ?? 120);
const initScale = Number(process.argv[6] ?? 1);
const architecture = pooling === 'last' ? 'decoder' : 'encoder';
const SEQ = 64;

const data = await spamAssassin({ limit: 600, seed: 1 });
const tok = await trainWordPiece(data.texts, { vocabSize: 2000 });
const internals = await trainerInternals();
const { tf, name } = await selectBackend();
const model = resolveModelConfig({ architecture, dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: SEQ, dropout: 0.1, typeVocabSize: architecture === 'encoder' ? 2 : 0, preLayerNorm: preLN }, architecture);
const head = classifier({ numLabels: 2, pooling });
const session = new internals.Session({ tf, backend: name, composition: composeObjectives([head.objective]), model, vocabSize: tok.vocabSize, seqLen: SEQ, seed: 1 });
if (initScale !== 1) {
  for (const p of session.store.list()) if (/\/h\d+\/(attn|mlp)\/.*kernel$/.test(p.name)) p.variable.assign(tf.mul(p.variable, initScale));
}
const optimizer = new internals.AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
const special = architecture === 'decoder' ? { ...tok.special, eos: tok.special.sep } : tok.special;
const enc = encodeAll(tok, data.texts, SEQ, architecture, special);
const split = stratifiedSplit(data.labels);

const batchOf = (rows: number[]): Batch => {
  const ids = new Int32Array(rows.length * SEQ);
  const mask = new Uint8Array(rows.length * SEQ);
  rows.forEach((i, r) => {
    ids.set(enc.ids.subarray(i * SEQ, (i + 1) * SEQ), r * SEQ);
    mask.set(enc.mask.subarray(i * SEQ, (i + 1) * SEQ), r * SEQ);
  });
  return { size: rows.length, seqLen: SEQ, columns: { input_ids: ids, attention_mask: mask, token_type_ids: new Int32Array(rows.length * SEQ), [CLASS_LABEL]: Int32Array.from(rows, (i) => data.labels[i]!) } };
};
const pooledVariance = (b: Batch): [number, number] =>
  tf.tidy(() => {
    const mask = tf.tensor2d(Int32Array.from(b.columns['attention_mask']!), [b.size, SEQ], 'int32');
    const h = session.backbone.apply({ inputIds: tf.tensor2d(b.columns['input_ids'] as Int32Array, [b.size, SEQ], 'int32'), attentionMask: mask }, false);
    // The vector the head reads: position 0, the last real token, or the masked mean.
    const last = tf.cast(tf.sub(tf.sum(mask, 1), tf.scalar(1, 'int32')), 'int32') as never;
    const weights = pooling === 'cls' ? tf.oneHot(tf.zeros([b.size], 'int32') as never, SEQ) : pooling === 'last' ? tf.oneHot(last, SEQ) : tf.div(tf.cast(mask, 'float32'), tf.sum(tf.cast(mask, 'float32'), 1, true));
    const pooled = tf.reshape(tf.matMul(tf.reshape(weights, [b.size, 1, SEQ]), h), [b.size, 64]);
    const tokens = tf.reshape(h, [-1, 64]);
    return [tf.mean(tf.moments(pooled, 0).variance).dataSync()[0]!, tf.mean(tf.moments(tokens, 0).variance).dataSync()[0]!];
  });
const group = (n: string) => n.replace(/\/(kernel|bias|gamma|beta)$/, '').replace(/h\d+\/(attn|mlp)\/.*/, 'h*/$1').replace(/h\d+\/ln_\d/, 'h*/ln');

const train = Array.from(split.train);
const started = performance.now();
let step = 0;
console.log(`${architecture} ${preLN ? 'pre' : 'post'}-LN, ${pooling} pooling, lr ${lr}, kernels ×${initScale}, ${train.length} training rows`);
outer: for (;;) {
  for (let s = 0; s + 32 <= train.length; s += 32) {
    if (performance.now() - started > seconds * 1000) break outer;
    const b = batchOf(train.slice(s, s + 32));
    const g = session.gradients([b], ++step);
    const norm = internals.globalNorm(tf, g.grads);
    if (step === 1 || step % 10 === 0) {
      const byGroup: Record<string, number> = {};
      for (const [k, t] of g.grads) byGroup[group(k)] = (byGroup[group(k)] ?? 0) + tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]!);
      const [across, tokens] = pooledVariance(b);
      const acc = g.metrics['classify.accuracy']!;
      console.log(`step ${step} loss ${g.loss.toFixed(3)} batch acc ${(acc.sum / acc.count).toFixed(2)} grad norm ${norm.toFixed(3)} | pooled variance across rows ${across.toExponential(1)} vs tokens ${tokens.toExponential(1)}`);
      console.log(`  grad norms: ${Object.entries(byGroup).map(([k, v]) => `${k} ${Math.sqrt(v).toExponential(1)}`).join(', ')}`);
    }
    internals.clipByGlobalNorm(tf, g.grads, norm, 1);
    optimizer.apply(g.grads, lr);
    for (const t of g.grads.values()) t.dispose();
  }
}
const val = Array.from(split.validation);
const b = batchOf(val);
const predicted = tf.tidy(() => {
  const mask = tf.tensor2d(Int32Array.from(b.columns['attention_mask']!), [val.length, SEQ], 'int32');
  const h = session.backbone.apply({ inputIds: tf.tensor2d(b.columns['input_ids'] as Int32Array, [val.length, SEQ], 'int32'), attentionMask: mask }, false);
  return tf.argMax(head.logits(tf, h, mask, false), 1).dataSync();
});
let correct = 0;
let spam = 0;
predicted.forEach((p, i) => {
  if (p === data.labels[val[i]!]) correct++;
  if (p === 1) spam++;
});
console.log(`after ${step} steps: validation accuracy ${(correct / val.length).toFixed(3)} (${spam}/${val.length} predicted spam; majority ${(val.filter((i) => data.labels[i] === 0).length / val.length).toFixed(3)})`);

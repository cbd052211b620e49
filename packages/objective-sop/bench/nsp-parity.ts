/**
 * Step-by-step parity of this trainer with PyTorch on next-sentence prediction: the same initial weights, the same
 * batches, the same AdamW, warm-up and clipping, so any difference in the loss trajectories comes from the
 * numerics of the two stacks, not from data or initialisation. The PyTorch half is bench/nsp-parity-torch.py.
 *
 *   npx tsx --conditions=@pretext/source bench/nsp-parity.ts --out /tmp/parity [--steps 300] [--lr 2e-3] [--seed 1]
 *     [--text enwiki] [--mlm] [--pair nsp|sop] [--vocab 5000] [--seq 64] [--data-only]
 *   /usr/bin/python3 bench/nsp-parity-torch.py /tmp/parity
 *
 * Writes DIR/init.safetensors (our parameter names), DIR/batches.bin (int32: per step input_ids, token_type_ids,
 * attention_mask, mlm labels (−100 where none), next-sentence labels), DIR/val.bin and DIR/ours.json (per-step
 * training loss, gradient norm, validation rows). The default task is bench/nsp-simple.ts's: topic documents, B the
 * continuation or a random document's tail. `--text enwiki` builds the pairs (and with `--mlm` the masked tokens) with
 * the nsp and mlm objectives from the English Wikipedia excerpt of the shared corpora, as bench/pair-learning.ts does.
 * `--pair sop` (with `--text enwiki`) trains sentence-order prediction instead; its label takes the pair label's place.
 * The 256 validation pairs are the stream's first, from the same documents as the training pairs (not held out):
 * they show whether the pair task is fitted at all.
 * `--data-only` writes the weights and batches without training here, for long PyTorch-only runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Rng, collate, composeObjectives, type Batch, type Example, type Tensor } from '@pretext/core';
import { mlm } from '@pretext/objective-mlm';
import { nsp } from '@pretext/objective-nsp';
import { SOP_LABEL, sop } from '../src/sop.js';
import { SIMPLE_VOCAB, simpleDocuments, simplePair } from './simple-pairs.js';
import { FIXTURE_SPECIAL, fixtureCorpus, sharedCorporaDir, streamDocuments } from '@pretext/objective-testing';
import { AdamW, Session, clipByGlobalNorm, globalNorm, resolveModelConfig, selectBackend, writeSafetensors, type NamedTensor } from '@pretext/trainer';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : fallback);
const out = opt('out', '');
if (!out) throw new Error('--out DIR is required (where the weights, batches and losses go for nsp-parity-torch.py)');
const steps = Number(opt('steps', '300'));
const lr = Number(opt('lr', '2e-3'));
const seed = Number(opt('seed', '1'));
const text = opt('text', '');
const withMlm = argv.includes('--mlm');
const L = Number(opt('seq', '64'));
const B = 16;
let V = SIMPLE_VOCAB;

const rng = new Rng(seed);
const docs = simpleDocuments(rng);
const example = (): Example => simplePair(docs[rng.int(docs.length)]!, docs, rng, L);
let batchOf = (n: number): Batch => collate(Array.from({ length: n }, example));
const pairName = opt('pair', 'nsp');
if (pairName !== 'nsp' && !(pairName === 'sop' && text === 'enwiki')) throw new Error(`--pair ${pairName}: nsp, or sop with --text enwiki`);
if (withMlm && text !== 'enwiki') throw new Error('--mlm needs --text enwiki (the synthetic pairs have no masked tokens)');
const pair = pairName === 'sop' ? sop() : nsp();
const pairLabel = pairName === 'sop' ? SOP_LABEL : 'next_sentence_label';
const objectives = withMlm ? [mlm(), pair] : [pair];
if (text === 'enwiki') {
  const { planWikipedia, readWikipedia } = await import('@pretext/ingest-wikipedia');
  const dump = path.join(sharedCorporaDir(import.meta.url), 'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
  const texts: { id: string; text: string }[] = [];
  // The excerpt is cut mid-dump: its last page is incomplete, which the reader reports and skips.
  for (const unit of await planWikipedia(dump)) for await (const d of readWikipedia(unit, { onError: () => {} })) texts.push({ id: d.id, text: d.text });
  const corpus = fixtureCorpus(texts, { vocabWords: Number(opt('vocab', '5000')), sentencesPerDocument: 8 });
  V = corpus.vocabSize;
  // Every pass over the documents in a new order; the objectives build pairs (and masks) as in training.
  const composition = composeObjectives(objectives);
  async function* endless() {
    for (let epoch = 0; ; epoch++) yield* composition.examples(streamDocuments(new Rng(seed * 7919 + epoch).shuffle([...corpus.documents])), { seqLen: L, vocabSize: V, special: FIXTURE_SPECIAL, rng: new Rng(seed + epoch) });
  }
  const source = endless()[Symbol.asyncIterator]();
  const pending: Example[] = [];
  for (let i = 0; i < (steps + 1) * B + 256; i++) pending.push((await source.next()).value as Example);
  batchOf = (n: number) => collate(pending.splice(0, n));
}
const flat = (bs: Batch[]): Int32Array => {
  const parts: number[] = [];
  for (const b of bs) {
    const n = b.size * b.seqLen;
    for (const c of ['input_ids', 'token_type_ids', 'attention_mask']) parts.push(...b.columns[c]!);
    parts.push(...(b.columns['labels'] ?? new Int32Array(n).fill(-100)));
    parts.push(...b.columns[pairLabel]!);
  }
  return Int32Array.from(parts);
};

const backend = await selectBackend({ backend: 'wasm' });
const { tf } = backend;
const model = resolveModelConfig({ architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: L, dropout: 0, typeVocabSize: 2 }, 'encoder');
const session = new Session({ tf, backend: backend.name, composition: composeObjectives(objectives), model, vocabSize: V, seqLen: L, seed });
const params = session.store.list();
const optimizer = new AdamW(tf, params, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });

await mkdir(out, { recursive: true });
const weights = new Map<string, NamedTensor>();
for (const p of params) weights.set(p.name, { dtype: 'F32', shape: p.variable.shape, data: p.variable.dataSync() as Float32Array });
await writeSafetensors(path.join(out, 'init.safetensors'), weights, { decay: params.filter((p) => p.decay).map((p) => p.name).join(',') });

const val = batchOf(256);
const train = Array.from({ length: steps }, () => batchOf(B));
await writeFile(path.join(out, 'val.bin'), flat([val]));
await writeFile(path.join(out, 'batches.bin'), flat(train));

const rows: { step: number; loss: number; norm: number; valLoss?: number; valAccuracy?: number; mlmLoss?: number; mlmAccuracy?: number }[] = [];
const evaluate = () => {
  const r = session.evaluate([val]);
  return { valLoss: r.values[`${pairName}.${pairName}`]!, valAccuracy: r.values[`${pairName}.accuracy`]!, ...(withMlm ? { mlmLoss: r.values['mlm.mlm']!, mlmAccuracy: r.values['mlm.accuracy']! } : {}) };
};
for (let step = 1; step <= (argv.includes('--data-only') ? 0 : steps); step++) {
  const r = session.gradients([train[step - 1]!], step, { training: false });
  const grads = r.grads as Map<string, Tensor>;
  const norm = globalNorm(tf, grads);
  clipByGlobalNorm(tf, grads, norm, 1);
  optimizer.apply(grads, lr * Math.min(1, step / 20));
  for (const g of grads.values()) g.dispose();
  rows.push({ step, loss: r.loss, norm, ...(step % 50 === 0 || step === 1 ? evaluate() : {}) });
}
await writeFile(path.join(out, 'ours.json'), JSON.stringify({ steps, lr, seqLen: L, mlm: withMlm, pair: pairName, rows }));
console.log(`vocabulary ${V}; step  loss    norm     ${pairName} val loss  ${pairName} val acc${withMlm ? '  mlm val loss  mlm val acc' : ''}`);
const f = (x: number | undefined) => (x === undefined ? '' : x.toFixed(4));
for (const r of rows) if (r.valLoss !== undefined || r.step <= 5) console.log(`${String(r.step).padEnd(5)} ${f(r.loss)}  ${f(r.norm)}  ${f(r.valLoss)}  ${f(r.valAccuracy)}  ${f(r.mlmLoss)}  ${f(r.mlmAccuracy)}`);

/**
 * Does a worker-thread replica speed up a training step? Steps alternate between the main thread alone (whole
 * batch) and main + one replica (half each, summed gradients), so machine load hits both alike; prints the medians.
 *   npx tsx bench/replicas.ts [--d 128] [--layers 2] [--vocab 4096] [--seq 128] [--batch 16] [--steps 8]
 */
import { Rng, collate, composeObjectives, type Batch } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { selectBackend } from '../src/backend.js';
import { resolveModelConfig } from '../src/model.js';
import { AdamW } from '../src/optimizer.js';
import { ReplicaWorker, addInto, applyHostGradients, gradsToHost } from '../src/parallel.js';
import { Session, type Counts } from '../src/session.js';

const argv = process.argv.slice(2);
const args = new Map<string, string>();
for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? '');
const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
const [d, layers, vocab, seq, batch, steps] = [num('d', 128), num('layers', 2), num('vocab', 4096), num('seq', 128), num('batch', 16), num('steps', 8)];

const { tf, name } = await selectBackend({ backend: 'wasm' });
const model = resolveModelConfig({ architecture: 'decoder', dModel: d, nLayers: layers, nHeads: Math.max(1, d / 32), dFF: 4 * d, maxPositions: seq, dropout: 0 }, 'decoder');
const objective = clm();
const session = new Session({ tf, backend: name, composition: composeObjectives([objective]), model, vocabSize: vocab, seqLen: seq, seed: 1 });
const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 };
const optimizer = new AdamW(tf, session.store.list(), adam);
const replica = await ReplicaWorker.start({ backend: name, model, vocabSize: vocab, seqLen: seq, seed: 1, objectives: [{ origin: objective.origin!, weight: 1 }], adam });
await replica.setState(session.store.list(), optimizer);

const rng = new Rng(1);
const examples = Array.from({ length: batch }, () => ({
  input_ids: Int32Array.from({ length: seq }, () => rng.int(vocab)),
  attention_mask: new Uint8Array(seq).fill(1),
  labels: Int32Array.from({ length: seq }, () => rng.int(vocab)),
}));
const whole = collate(examples);
const halves: [Batch, Batch] = [collate(examples.slice(0, batch / 2)), collate(examples.slice(batch / 2))];
const totals: Counts = session.counts(whole);

let n = 0;
async function alone(): Promise<number> {
  const t0 = performance.now();
  const r = session.gradients([whole], ++n);
  const host = gradsToHost(r.grads, tf);
  applyHostGradients(tf, optimizer, session.store.list(), host, 1, 1e-4);
  replica.apply(host, 1, 1e-4); // keep the replica in step (not timed work on this thread)
  return (performance.now() - t0) / 1000;
}
async function together(): Promise<number> {
  const t0 = performance.now();
  const remote = replica.gradients([halves[1]], totals, ++n, 1);
  const local = session.gradients([halves[0]], n, { totals, rank: 0 });
  const summed = gradsToHost(local.grads, tf);
  const other = await remote;
  for (const [k, g] of Object.entries(other.grads)) addInto(summed[k]!, g);
  replica.apply(summed, 1, 1e-4);
  applyHostGradients(tf, optimizer, session.store.list(), summed, 1, 1e-4);
  return (performance.now() - t0) / 1000;
}
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i <= steps; i++) {
  const x = await alone();
  const y = await together();
  if (i > 0) {
    a.push(x);
    b.push(y);
  }
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
console.log(`d${d} × ${layers}, vocab ${vocab}, ${batch} × ${seq} tokens: main thread alone ${median(a).toFixed(3)} s/step, main + 1 replica ${median(b).toFixed(3)} s/step, speed-up ${(median(a) / median(b)).toFixed(2)}×`);
await replica.close();
optimizer.dispose();
session.dispose();

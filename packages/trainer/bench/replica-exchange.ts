/**
 * How the summed gradients reach a replica thread: structured clone (the copy is made on the main thread, inside
 * postMessage) against uploading this thread's tensors first and then transferring the arrays (no copy), as
 * train.ts does. Blocks of 3 two-share steps (main thread + 1 replica) alternate between the two ways, 4 rounds;
 * prints each block's mean step time, the medians and the speed-up.
 *   npx tsx bench/replica-exchange.ts [--d 256] [--layers 4] [--vocab 8192] [--seq 128] [--batch 16]
 */
import { collate, type Batch } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { ReplicaWorker, applyHostGradients, gradsToHost, hostGradientTensors } from '../src/parallel.js';
import { benchShape, clmBench } from './shape.js';
const shape = benchShape();
const { backend, tf, model, session, optimizer, hostBatch, examples } = await clmBench(shape, 'wasm');
const shares: Batch[] = [0, 1].map((i) => collate(examples.filter((_, j) => j % 2 === i)));
const totals = session.counts(hostBatch);
const replica = await ReplicaWorker.start({ backend: backend.name, model, vocabSize: shape.vocab, seqLen: shape.seq, seed: 1, objectives: [{ origin: clm().origin!, weight: 1 }], adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 } });
await replica.setState(session.store.list(), optimizer);
let step = 0;
async function one(transfer: boolean) {
  step++;
  const remote = replica.gradients([shares[1]!], totals, step, 1);
  const local = session.gradients([shares[0]!], step, { totals, rank: 0 });
  const summed = gradsToHost(local.grads, tf);
  const other = await remote;
  for (const [k, g] of Object.entries(other.grads)) { const mine = summed[k]!; for (let i = 0; i < g.length; i++) mine[i]! += g[i]!; }
  if (transfer) {
    const tensors = hostGradientTensors(tf, session.store.list(), summed);
    replica.apply(summed, 1, 1e-4, true);
    optimizer.apply(tensors, 1e-4);
    for (const t of tensors.values()) t.dispose();
  } else {
    replica.apply(summed, 1, 1e-4);
    applyHostGradients(tf, optimizer, session.store.list(), summed, 1, 1e-4);
  }
}
await one(false); await one(true);
const res: Record<string, number[]> = { clone: [], transfer: [] };
for (let round = 0; round < 4; round++) {
  for (const transfer of [false, true]) {
    const t = performance.now();
    for (let i = 0; i < 3; i++) await one(transfer);
    res[transfer ? 'transfer' : 'clone']!.push((performance.now() - t) / 3);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('clone', res.clone!.map((x) => x.toFixed(0)).join(' '), 'median', med(res.clone!).toFixed(0), '| transfer', res.transfer!.map((x) => x.toFixed(0)).join(' '), 'median', med(res.transfer!).toFixed(0), '| speed-up', (med(res.clone!) / med(res.transfer!)).toFixed(3));
await replica.close();

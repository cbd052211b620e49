/**
 * Training step time of this checkout's trainer against an older copy of its sources, in the same process, steps
 * interleaved (so load on a shared machine hits both alike), median after one warm-up step each.
 *
 *   git archive <commit> packages/trainer/src | tar -x --strip-components=2 -C packages/trainer/bench/.baseline
 *   npx tsx bench/ab.ts --baseline bench/.baseline/src [--d 256] [--layers 4] [--vocab 8192] [--seq 128] [--batch 16] [--steps 6]
 *
 * Both sides train the same GPT (clm, the objective package of this checkout) on the same random batch with AdamW
 * and print their losses, which must agree to float rounding (the changes compared are speed-only).
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng, collate, composeObjectives, type Tensor } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { selectBackend } from '../src/backend.js';
import { resolveModelConfig } from '../src/model.js';
import * as current from '../src/index.js';
import { benchShape } from './shape.js';

const { args, num, d, layers, vocab, seq, batch } = benchShape();
const steps = num('steps', 6);
const baselineDir = args.get('baseline');
if (!baselineDir) throw new Error('--baseline DIR (a copy of an older packages/trainer/src) is required');
const base = (await import(pathToFileURL(path.resolve(baselineDir, 'index.ts')).href)) as typeof current;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const backend = await selectBackend({ backend: 'wasm' });
const { tf } = backend;
const model = resolveModelConfig({ architecture: 'decoder', dModel: d, nLayers: layers, nHeads: Math.max(1, d / 64), dFF: 4 * d, maxPositions: seq, dropout: 0 }, 'decoder');
const rng = new Rng(1);
const hostBatch = collate(
  Array.from({ length: batch }, () => ({
    input_ids: Int32Array.from({ length: seq }, () => rng.int(vocab)),
    attention_mask: new Uint8Array(seq).fill(1),
    labels: Int32Array.from({ length: seq }, () => rng.int(vocab)),
  })),
);

function side(lib: typeof current) {
  const session = new lib.Session({ tf, backend: backend.name, composition: composeObjectives([clm()]), model, vocabSize: vocab, seqLen: seq, seed: 1 });
  const optimizer = new lib.AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
  let step = 0;
  const times: number[] = [];
  const losses: number[] = [];
  return {
    times,
    losses,
    run(): void {
      const t0 = performance.now();
      const r = session.gradients([hostBatch], ++step);
      const grads = r.grads as Map<string, Tensor>;
      lib.clipByGlobalNorm(tf, grads, lib.globalNorm(tf, grads), 1);
      optimizer.apply(grads, 1e-3);
      for (const g of grads.values()) g.dispose();
      session.store.list()[0]!.variable.dataSync();
      if (step > 1) times.push((performance.now() - t0) / 1000);
      losses.push(r.loss);
    },
  };
}
const a = side(base);
const b = side(current);
for (let i = 0; i <= steps; i++) {
  a.run();
  b.run();
}
const tokens = batch * seq;
console.log(`GPT d${d} × ${layers} layers, vocab ${vocab}, seq ${seq}, batch ${batch}; ${steps} timed steps each, interleaved; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`baseline ${median(a.times).toFixed(3)} s/step  ${(tokens / median(a.times)).toFixed(0)} tokens/s   losses ${a.losses.map((x) => x.toFixed(5)).join(' ')}`);
console.log(`current  ${median(b.times).toFixed(3)} s/step  ${(tokens / median(b.times)).toFixed(0)} tokens/s   losses ${b.losses.map((x) => x.toFixed(5)).join(' ')}`);
console.log(`speed-up current / baseline: ${(median(a.times) / median(b.times)).toFixed(3)}  (per-step ratios ${a.times.map((t, i) => (t / b.times[i]!).toFixed(2)).join(' ')})`);

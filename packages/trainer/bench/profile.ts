/**
 * Where one training step's time goes, per kernel, on the wasm (or cpu) backend.
 *
 *   npx tsx bench/profile.ts [--d 256] [--layers 4] [--vocab 8192] [--seq 128] [--batch 16] [--reps 3] [--backend wasm]
 *
 * Same model and random batch as bench/throughput.ts (pre-LN GPT, clm, tied embeddings, AdamW). After two warm-up
 * steps it runs, `reps` times each: the forward pass alone (the loss, under tf.tidy, training mode), the forward and
 * backward pass (`Session.gradients`), the global norm + clip, and the AdamW update, each under `tf.profile`. It
 * prints wall time per section (median) and a table of kernel time by kernel name, split into forward and backward
 * (backward = gradients − forward, per kernel name), plus the optimizer's kernels. Kernel times come from the
 * backend's own timer (wall clock around each synchronous wasm kernel), so they add up to a bit less than the
 * section wall times (the rest is JavaScript: tape bookkeeping, tidy, dispose).
 */
import type { Batch, Scalar, Tensor } from '@pretext/core';
import type { BackendName } from '../src/backend.js';
import { clipByGlobalNorm, globalNorm } from '../src/optimizer.js';
import { benchShape, clmBench } from './shape.js';

const shape = benchShape();
const { args, num, d, layers, vocab, seq, batch } = shape;
const reps = num('reps', 3);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const { backend, tf, session, optimizer, hostBatch } = await clmBench(shape, (args.get('backend') as BackendName | undefined) ?? 'wasm');
const totals = session.counts(hostBatch);
// The private forward pass (the loss), reached the way Session.gradients reaches it.
const forward = (session as unknown as { forward(b: Batch, t: typeof totals, training: boolean, where: string, rec: unknown[]): Scalar }).forward.bind(session);

type Kernels = Map<string, { ms: number; calls: number }>;
const sections = { forward: [] as number[], 'forward+backward': [] as number[], 'norm+clip': [] as number[], adamw: [] as number[] };
const kernelRuns = { forward: [] as Kernels[], gradients: [] as Kernels[], optimizer: [] as Kernels[] };

async function profiled(fn: () => void): Promise<{ ms: number; kernels: Kernels }> {
  const t0 = performance.now();
  const info = await tf.profile(fn);
  const ms = performance.now() - t0;
  const kernels: Kernels = new Map();
  for (const k of info.kernels) {
    // tf.profile also lists customGrad scopes ('forward', 'unnamed scope') around the kernels they ran: not kernels.
    if (!tf.getKernel(k.name, tf.getBackend())) continue;
    // Matrix products by shape: their speed on wasm depends on it far more than on the FLOP count.
    const name = k.name === 'BatchMatMul' || k.name === 'Transpose' ? `${k.name} ${k.inputShapes.map((s) => (s ?? []).join('x')).join('·')}` : k.name;
    const e = kernels.get(name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls++;
    kernels.set(name, e);
  }
  return { ms, kernels };
}

function plainStep(step: number): void {
  const r = session.gradients([hostBatch], step);
  clipByGlobalNorm(tf, r.grads, globalNorm(tf, r.grads), 1);
  optimizer.apply(r.grads, 1e-4);
  for (const g of r.grads.values()) g.dispose();
}
plainStep(1);
plainStep(2);

for (let rep = 0; rep < reps; rep++) {
  const step = 3 + rep;
  const f = await profiled(() => {
    const loss = tf.tidy(() => forward(hostBatch, totals, true, 'profile', []));
    loss.dataSync();
    loss.dispose();
  });
  sections.forward.push(f.ms);
  kernelRuns.forward.push(f.kernels);
  let grads = new Map<string, Tensor>();
  const g = await profiled(() => {
    grads = session.gradients([hostBatch], step).grads;
  });
  sections['forward+backward'].push(g.ms);
  kernelRuns.gradients.push(g.kernels);
  const t0 = performance.now();
  clipByGlobalNorm(tf, grads, globalNorm(tf, grads), 1);
  sections['norm+clip'].push(performance.now() - t0);
  const o = await profiled(() => {
    optimizer.apply(grads, 1e-4);
    // Make the update's time visible to the wall clock (wasm runs synchronously anyway).
    session.store.list()[0]!.variable.dataSync();
  });
  sections.adamw.push(o.ms);
  kernelRuns.optimizer.push(o.kernels);
  for (const t of grads.values()) t.dispose();
}

// Median per kernel name over the repetitions.
const medianKernels = (runs: Kernels[]): Kernels => {
  const names = new Set(runs.flatMap((r) => [...r.keys()]));
  const out: Kernels = new Map();
  for (const n of names) out.set(n, { ms: median(runs.map((r) => r.get(n)?.ms ?? 0)), calls: median(runs.map((r) => r.get(n)?.calls ?? 0)) });
  return out;
};
const fwd = medianKernels(kernelRuns.forward);
const all = medianKernels(kernelRuns.gradients);
const opt = medianKernels(kernelRuns.optimizer);

const tokens = batch * seq;
console.log(`GPT d${d} × ${layers} layers, vocab ${vocab}, seq ${seq}, batch ${batch} (${tokens} tokens), backend ${backend.name}, ${reps} reps, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('\nsection wall time (median ms):');
let stepMs = 0;
for (const [name, xs] of Object.entries(sections)) {
  const m = median(xs);
  if (name !== 'forward') stepMs += m;
  console.log(`  ${name.padEnd(18)} ${m.toFixed(1).padStart(8)}`);
}
console.log(`  ${'step'.padEnd(18)} ${stepMs.toFixed(1).padStart(8)}  (${((tokens * 1000) / stepMs).toFixed(0)} tokens/s)`);

const rows: { name: string; f: number; fc: number; b: number; bc: number; o: number; oc: number }[] = [];
for (const n of new Set([...all.keys(), ...fwd.keys(), ...opt.keys()])) {
  const f = fwd.get(n) ?? { ms: 0, calls: 0 };
  const a = all.get(n) ?? { ms: 0, calls: 0 };
  const o = opt.get(n) ?? { ms: 0, calls: 0 };
  rows.push({ name: n, f: f.ms, fc: f.calls, b: Math.max(0, a.ms - f.ms), bc: Math.max(0, a.calls - f.calls), o: o.ms, oc: o.calls });
}
rows.sort((x, y) => y.f + y.b + y.o - (x.f + x.b + x.o));
const total = rows.reduce((s, r) => s + r.f + r.b + r.o, 0);
console.log('\nkernel time by kernel name (median ms; calls in parentheses):');
console.log(`  ${'kernel'.padEnd(34)} ${'forward'.padStart(14)} ${'backward'.padStart(14)} ${'adamw'.padStart(14)} ${'share'.padStart(7)}`);
const cell = (ms: number, calls: number) => (calls ? `${ms.toFixed(1)} (${calls})` : '').padStart(14);
for (const r of rows) {
  const sum = r.f + r.b + r.o;
  if (sum < total * 0.002) continue;
  console.log(`  ${r.name.padEnd(34)} ${cell(r.f, r.fc)} ${cell(r.b, r.bc)} ${cell(r.o, r.oc)} ${((100 * sum) / total).toFixed(1).padStart(6)}%`);
}
const sumOf = (k: 'f' | 'b' | 'o') => rows.reduce((s, r) => s + r[k], 0);
const callsOf = (k: 'fc' | 'bc' | 'oc') => rows.reduce((s, r) => s + r[k], 0);
console.log(`  ${'total'.padEnd(34)} ${cell(sumOf('f'), callsOf('fc'))} ${cell(sumOf('b'), callsOf('bc'))} ${cell(sumOf('o'), callsOf('oc'))}`);
optimizer.dispose();
session.dispose();

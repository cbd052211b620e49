/**
 * Training throughput of the trainer's GPT against the same model in PyTorch, in the same run.
 *
 *   npx tsx bench/throughput.ts [--d 256] [--layers 4] [--vocab 8192] [--seq 128] [--batch 16] [--steps 6]
 *                               [--threads 1] [--backend wasm] [--python /usr/bin/python3] [--peak-gflops N]
 *
 * Needs `apt-get install -y python3-torch libopenblas0-pthread` (without OpenBLAS, torch falls back to the
 * reference BLAS, 3× slower again). Both sides train a pre-LayerNorm GPT with tied embeddings, tanh GELU and AdamW on random token ids (the speed
 * does not depend on the text), batch × seq tokens per step. PyTorch (Debian's python3-torch, OpenBLAS) runs with
 * OPENBLAS_CORETYPE=SkylakeX (OpenBLAS 0.3.21 mis-detects this AVX-512 CPU as Prescott and runs ~3× slower) and
 * `--threads` threads; tfjs uses as many cores, through model replicas in worker threads beyond the first (the
 * wasm backend is single-threaded under Node), as the trainer's `workers` option does. Steps alternate between
 * the two sides (so load on a shared machine hits both alike) and each reports its median after one warm-up step; the script prints tokens/s, the ratio tfjs / PyTorch, and model FLOPs
 * utilisation (6·params·tokens + attention, over the CPU's peak: cores × GHz × 64 FP32 FLOP/cycle for AVX-512 with
 * two FMA units, or --peak-gflops).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../src/backend.js';
import { collate, type Batch } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { clipByGlobalNorm, globalNorm } from '../src/optimizer.js';
import { ReplicaWorker, addInto, gradsToHost, hostGradientTensors, sumOfSquares } from '../src/parallel.js';
import { benchShape, clmBench } from './shape.js';

const shape = benchShape();
const { args, num, d, layers, vocab, seq, batch } = shape;
const steps = num('steps', 6);
const threads = num('threads', 1);
// Debian's python3-torch lives in the system interpreter; a pyenv or venv `python3` on PATH would not see it.
const python = args.get('python') ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// --- tfjs ---------------------------------------------------------------------------------------------------
const { backend, tf, model, session, optimizer, hostBatch, examples } = await clmBench(shape, (args.get('backend') as BackendName | undefined) ?? 'wasm');
// With --threads N on wasm or cpu (single-threaded under Node), tfjs uses N cores as the trainer does: the batch is
// split into N shares, N − 1 of them computed on model replicas in worker threads, the gradients summed and clipped
// on the main thread, and every replica applies the same AdamW update (src/parallel.ts).
const replicaCount = backend.name === 'wasm' || backend.name === 'cpu' ? Math.max(0, threads - 1) : 0;
const shares: Batch[] = Array.from({ length: replicaCount + 1 }, (_, i) => collate(examples.filter((_, j) => j % (replicaCount + 1) === i)));
const totals = session.counts(hostBatch);
const replicas: ReplicaWorker[] = [];
for (let i = 0; i < replicaCount; i++) {
  const replica = await ReplicaWorker.start({
    backend: backend.name,
    model,
    vocabSize: vocab,
    seqLen: seq,
    seed: 1,
    objectives: [{ origin: clm().origin!, weight: 1 }],
    adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 },
  });
  await replica.setState(session.store.list(), optimizer);
  replicas.push(replica);
}
let tfStep = 0;
async function tfjsStep(): Promise<number> {
  const t0 = performance.now();
  if (replicas.length === 0) {
    const r = session.gradients([hostBatch], ++tfStep);
    const norm = globalNorm(tf, r.grads);
    clipByGlobalNorm(tf, r.grads, norm, 1);
    optimizer.apply(r.grads, 1e-4);
    for (const g of r.grads.values()) g.dispose();
  } else {
    const step = ++tfStep;
    const remote = replicas.map((r, i) => r.gradients([shares[i + 1]!], totals, step, i + 1));
    const local = session.gradients([shares[0]!], step, { totals, rank: 0 });
    const summed = gradsToHost(local.grads, tf);
    for (const g of local.grads.values()) g.dispose();
    for (const other of await Promise.all(remote)) {
      for (const [k, g] of Object.entries(other.grads)) addInto(summed[k]!, g);
    }
    let sq = 0;
    for (const g of Object.values(summed)) sq += sumOfSquares(g);
    const scale = Math.min(1, 1 / (Math.sqrt(sq) + 1e-6));
    // As train.ts does: this thread's tensors first, then the arrays move to the last replica without a copy.
    const tensors = hostGradientTensors(tf, session.store.list(), summed);
    replicas.forEach((r, i) => r.apply(summed, scale, 1e-4, i === replicas.length - 1));
    optimizer.apply(tensors, 1e-4, scale);
    for (const t of tensors.values()) t.dispose();
    // The step ends when every replica has applied the update too (it would otherwise run into PyTorch's step).
    await Promise.all(replicas.map((r) => r.idle()));
  }
  return (performance.now() - t0) / 1000;
}
const params = session.store.count();

// --- PyTorch, as a child process that runs one step per line on stdin ------------------------------------------
const script = String.raw`
import json, math, sys, time, torch
import torch.nn as nn
import torch.nn.functional as F
d, L, V, T, B, threads = [int(x) for x in sys.argv[1:7]]
torch.set_num_threads(threads)
torch.manual_seed(0)
H = max(1, d // 64)
class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1 = nn.LayerNorm(d); s.q = nn.Linear(d, d); s.k = nn.Linear(d, d); s.v = nn.Linear(d, d); s.o = nn.Linear(d, d)
        s.ln2 = nn.LayerNorm(d); s.fc = nn.Linear(d, 4 * d); s.proj = nn.Linear(4 * d, d)
    def forward(s, x, mask):
        h = s.ln1(x)
        q, k, v = [t(h).view(B, T, H, d // H).transpose(1, 2) for t in (s.q, s.k, s.v)]
        a = (q @ k.transpose(-1, -2)) / math.sqrt(d // H) + mask
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + s.o(y)
        return x + s.proj(F.gelu(s.fc(s.ln2(x)), approximate='tanh'))
class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = nn.Embedding(V, d); s.wpe = nn.Embedding(T, d); s.blocks = nn.ModuleList([Block() for _ in range(L)])
        s.ln_f = nn.LayerNorm(d); s.bias = nn.Parameter(torch.zeros(V))
    def forward(s, ids, labels):
        x = s.wte(ids) + s.wpe(torch.arange(T))
        mask = torch.full((T, T), -1e9).triu(1)
        for b in s.blocks: x = b(x, mask)
        logits = s.ln_f(x) @ s.wte.weight.t() + s.bias
        return F.cross_entropy(logits.view(-1, V), labels.view(-1))
m = GPT()
opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.1)
ids = torch.randint(0, V, (B, T)); labels = torch.randint(0, V, (B, T))
print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": "openblas" if "openblas" in open("/proc/self/maps").read() else "other"}), flush=True)
for line in sys.stdin:
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = m(ids, labels); loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'pretext-bench-'));
const scriptFile = path.join(dir, 'gpt.py');
writeFileSync(scriptFile, script);
const env = { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
const child = spawn(python, [scriptFile, ...[d, layers, vocab, seq, batch, threads].map(String)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const nextLine = async (): Promise<Record<string, unknown> | null> => {
  const r = await lines.next();
  return r.done ? null : (JSON.parse(r.value) as Record<string, unknown>);
};
const hello = await nextLine();
const torchInfo = hello as { torch: string; threads: number; blas: string } | null;
if (!torchInfo) console.error(`PyTorch side did not run (${python}: ${stderr.trim().split('\n').at(-1)}); install it with apt-get install -y python3-torch libopenblas0-pthread`);
const torchStep = async (): Promise<number> => {
  child.stdin.write('step\n');
  return (await nextLine())!['seconds'] as number;
};

// Interleaved, one step each in turn, so load changes on a shared machine hit both sides alike. Step 0 warms up.
const tfTimes: number[] = [];
const ptTimes: number[] = [];
for (let i = 0; i <= steps; i++) {
  const a = await tfjsStep();
  const b = torchInfo ? await torchStep() : NaN;
  if (i > 0) {
    tfTimes.push(a);
    ptTimes.push(b);
  }
}
child.stdin.end();
await Promise.all(replicas.map((r) => r.close()));
rmSync(dir, { recursive: true, force: true });
optimizer.dispose();
session.dispose();
const torchResult = torchInfo ? { median: median(ptTimes), ...torchInfo } : null;

// --- report ---------------------------------------------------------------------------------------------------
const tokens = batch * seq;
// Per token: 6 FLOPs per parameter touched by a matMul (forward 2, backward 4; the tied output layer counts once
// more since the embedding lookup is not a matMul) plus attention's q·kᵀ and p·v: 6·2·T·d per layer (causal
// masking computes the full square here).
const matmulParams = layers * (4 * d * d + 2 * 4 * d * d) + d * vocab;
const flopsPerToken = 6 * matmulParams + 12 * layers * seq * d;
const cpuMhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 0);
const peak = args.has('peak-gflops') ? Number(args.get('peak-gflops')) * 1e9 : threads * cpuMhz * 1e6 * 64;
const tfTps = tokens / median(tfTimes);
const row = (name: string, tps: number) =>
  `${name.padEnd(22)} ${tps.toFixed(0).padStart(7)} tokens/s   ${((tps * flopsPerToken) / 1e9).toFixed(2).padStart(6)} GFLOP/s   MFU ${((100 * tps * flopsPerToken) / peak).toFixed(2)}%`;
console.log(`GPT d${d} × ${layers} layers, vocab ${vocab}, seq ${seq}, batch ${batch}; ${params.toLocaleString('en-US')} parameters; ${threads} thread(s); peak ${(peak / 1e9).toFixed(0)} GFLOP/s`);
console.log(row(`tfjs ${backend.name}`, tfTps));
if (torchResult) {
  const ptTps = tokens / torchResult.median;
  console.log(row(`PyTorch ${torchResult.torch} (${torchResult.blas})`, ptTps));
  console.log(`ratio tfjs / PyTorch: ${(tfTps / ptTps).toFixed(3)}`);
}

/**
 * Loader headroom: how long the step waits for data, with batches built on the main thread between steps against
 * on the loader thread ahead of the step. Runs `train` in both modes, alternating (so machine load hits both
 * alike), on a real book (byte tokens) and prints the medians of each mode's `TrainResult.loader`.
 *   npx tsx bench/loader.ts [--mlm] [--d 128] [--layers 2] [--seq 128] [--batch 16] [--steps 12] [--repeats 3]
 * `--mlm`: BERT-style masking on an encoder (more work per example than clm's shift), with [CLS]/[SEP]/[MASK] added
 * after the 258 byte ids.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Objective } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { BYTE_SPECIAL, BYTE_VOCAB, median, numberOption } from '@pretext/test-fixtures';
import { bookData } from '../src/book-data.test-helper.js';
import { train, type LoaderReport } from '../src/train.js';

const [d, layers, seq, batch, steps, repeats] = ['d', 'layers', 'seq', 'batch', 'steps', 'repeats'].map((k, i) => numberOption(k, [128, 2, 128, 16, 12, 3][i]!));
const useMlm = process.argv.includes('--mlm');
// objective-mlm is a workspace sibling, not a dependency of the trainer: loaded only for this variant.
const objective: Objective = useMlm ? ((await import('@pretext/objective-mlm')) as { mlm: () => Objective }).mlm() : clm();
const special = useMlm ? { ...BYTE_SPECIAL, cls: BYTE_VOCAB, sep: BYTE_VOCAB + 1, mask: BYTE_VOCAB + 2 } : BYTE_SPECIAL;
const vocabSize = useMlm ? BYTE_VOCAB + 3 : BYTE_VOCAB;
const architecture = useMlm ? 'encoder' : 'decoder';
const data = bookData({ book: 'gutenberg/markovify/sherlock.txt', validationEvery: 20 });
const runs: Record<'main' | 'thread', LoaderReport[]> = { main: [], thread: [] };
const losses: Record<'main' | 'thread', number[]> = { main: [], thread: [] };

for (let r = 0; r < repeats; r++) {
  for (const loader of ['main', 'thread'] as const) {
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'pretext-loader-bench-'));
    const result = await train({
      objectives: [objective],
      data,
      vocabSize,
      special,
      model: { architecture, dModel: d, nLayers: layers, nHeads: Math.max(1, d / 32), dFF: 4 * d, maxPositions: seq, dropout: 0 },
      outDir,
      seqLen: seq,
      batchSize: batch,
      maxSteps: steps,
      evalEvery: steps,
      evalBatches: 1,
      checkpointEvery: steps,
      workers: 1,
      seed: r,
      loader,
    });
    await rm(outDir, { recursive: true, force: true });
    runs[loader].push(result.loader);
    losses[loader].push(result.train.last);
    console.log(`repeat ${r} ${loader.padEnd(6)} start ${result.loader.startSeconds.toFixed(3)} s, wait ${(1000 * result.loader.waitSeconds).toFixed(3)} ms, build ${result.loader.buildSeconds.toFixed(3)} s, compute ${result.loader.computeSeconds.toFixed(2)} s`);
  }
}
console.log(`\n${objective.name}, d ${d} × ${layers} layers, batch ${batch} × ${seq}, ${steps} steps, median of ${repeats} (os load ${os.loadavg()[0]!.toFixed(1)}):`);
console.log('mode    start s  wait ms (steps 2..n)  build s  compute s  wait/compute  headroom (compute/build)');
for (const mode of ['main', 'thread'] as const) {
  const m = (f: (l: LoaderReport) => number) => median(runs[mode].map(f));
  console.log(
    `${mode.padEnd(7)} ${m((l) => l.startSeconds).toFixed(3).padStart(7)}  ${(1000 * m((l) => l.waitSeconds)).toFixed(3).padStart(20)}  ${m((l) => l.buildSeconds).toFixed(3).padStart(7)}  ${m((l) => l.computeSeconds).toFixed(2).padStart(9)}  ${(100 * m((l) => l.waitSeconds / l.computeSeconds)).toFixed(4).padStart(11)}%  ${m((l) => l.headroom).toFixed(0).padStart(8)}×`,
  );
}
console.log(`same final losses in both modes: ${JSON.stringify(losses.main) === JSON.stringify(losses.thread)}`);

/**
 * Compares model shapes for the demo on real token shards under a wall-clock budget.
 * Usage: npx tsx bench/demo-sweep.ts TOKEN_SHARDS_DIR SECONDS|steps=N "d,layers,seq,batch[,lr[,workers]]" ...
 * (token shards as `pretext tokenize` writes them, e.g. the demo's runs/demo/tokens). Prints, per shape, the
 * steps made, tokens/s and the validation loss at the start and the end; run them back to back on a quiet machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seedFromString, type TokenizedDocument } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { readManifest, readTokenizedDocuments } from '@pretext/shards';
import { train } from '../src/index.js';

const [dir, seconds, ...shapes] = process.argv.slice(2);
if (!dir || !seconds || shapes.length === 0) {
  console.error('usage: tsx bench/demo-sweep.ts TOKEN_SHARDS_DIR SECONDS "d,layers,seq,batch[,lr[,workers]]" ...');
  process.exit(2);
}
const manifest = await readManifest(dir);
const tok = (manifest.settings as { tokenizer: { vocabSize: number; special: { eos: number; pad: number } } }).tokenizer;
const trainDocs: TokenizedDocument[] = [];
const valDocs: TokenizedDocument[] = [];
for await (const doc of readTokenizedDocuments(dir)) (seedFromString(doc.id, 1234) % 1000 < 20 ? valDocs : trainDocs).push(doc);
async function* each(docs: TokenizedDocument[]) {
  yield* docs;
}
console.log(`${trainDocs.length} train / ${valDocs.length} validation documents, vocabulary ${tok.vocabSize}, budget ${seconds} s`);
for (const shape of shapes) {
  const [d, layers, seq, batch, lr, workers] = shape.split(',').map((x) => (x === '' ? undefined : Number(x))) as [number, number, number, number, number | undefined, number | undefined];
  const out = await mkdtemp(path.join(os.tmpdir(), 'pretext-sweep-'));
  const result = await train({
    objectives: [clm()],
    data: { train: () => each(trainDocs), validation: () => each(valDocs) },
    vocabSize: tok.vocabSize,
    special: tok.special,
    model: { architecture: 'decoder', dModel: d, nLayers: layers, nHeads: Math.max(1, d / 32), dFF: 4 * d, maxPositions: seq, dropout: 0 },
    outDir: out,
    seqLen: seq,
    batchSize: batch,
    // "steps=N" instead of seconds compares shapes or learning rates at equal steps (independent of machine load).
    ...(seconds.startsWith('steps=') ? { maxSteps: Number(seconds.slice(6)), evalEvery: Number(seconds.slice(6)) } : { maxSteps: 100_000, maxSeconds: Number(seconds) }),
    ...(lr ? { learningRate: lr } : {}),
    ...(workers ? { workers } : {}),
    seed: 1234,
  });
  console.log(
    `d${d} L${layers} seq${seq} batch${batch} lr${lr ?? 'default'} workers${result.workers} threads${result.threads}: ${result.steps} steps, ${Math.round(result.tokensPerSecond)} tok/s, ` +
      `val ${result.validation?.first.toFixed(3)} → ${result.validation?.last.toFixed(3)}, train ${result.train.first.toFixed(3)} → ${result.train.last.toFixed(3)}, ${result.seconds.toFixed(0)} s`,
  );
  await rm(out, { recursive: true, force: true });
}

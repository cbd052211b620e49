/**
 * Trains a tiny ELECTRA on the fixture books and prints the validation trajectory: the numbers in the README's
 * "Measured" table. Usage (from this package):
 *   npx tsx --conditions @pretext/source bench/probe.ts STEPS [SEQ_LEN=32] [LR=3e-3] [BATCH=16] [D_MODEL=64] [TEMPERATURE=1]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadFixtureCorpus, streamDocuments } from '@pretext/objective-testing';
import { train } from '@pretext/trainer';
import { electraRtd } from '../src/index.js';

const [steps = 120, seqLen = 32, lr = 3e-3, batch = 16, d = 64, temperature = 1] = process.argv.slice(2).map(Number);
const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 8 }, import.meta.url);
const trainDocs = corpus.documents.filter((_, i) => i % 10 !== 0);
const valDocs = corpus.documents.filter((_, i) => i % 10 === 0);
const outDir = await mkdtemp(path.join(os.tmpdir(), 'electra-probe-'));
const t0 = performance.now();
const r = await train({
  objectives: [electraRtd({ temperature })],
  data: { train: () => streamDocuments(trainDocs), validation: () => streamDocuments(valDocs) },
  vocabSize: corpus.vocabSize,
  special: corpus.special,
  model: { architecture: 'encoder', dModel: d, nLayers: 2, nHeads: 2, dFF: 2 * d, maxPositions: seqLen, dropout: 0, typeVocabSize: 2 },
  outDir,
  seqLen,
  batchSize: batch,
  maxSteps: steps,
  learningRate: lr,
  warmupSteps: 4,
  evalEvery: Math.max(1, Math.round(steps / 6)),
  evalBatches: 4,
  checkpointEvery: 100_000,
  seed: 3,
});
console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s on ${r.backend.name}, vocabulary ${corpus.vocabSize}`);
console.log('step  generator  discriminator (label entropy)  detection accuracy (always original)  recall');
for (const line of (await readFile(r.metricsFile, 'utf8')).split('\n').filter(Boolean)) {
  const row = JSON.parse(line) as Record<string, number | string>;
  if (row['split'] !== 'val') continue;
  const m = (k: string) => row[`electra-rtd.${k}`] as number;
  const p = m('replaced');
  const entropy = -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  console.log(
    `${String(row['step']).padStart(4)}  ${m('generator').toFixed(3)}      ${m('discriminator').toFixed(3)} (${entropy.toFixed(3)})`,
    `               ${m('detection_accuracy').toFixed(3)} (${(1 - p).toFixed(3)})                       ${m('detection_recall').toFixed(3)}`,
  );
}
await rm(outDir, { recursive: true, force: true });

import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadFixtureCorpus, streamDocuments } from '@pretext/objective-testing';
import { train } from '@pretext/trainer';
import { electraRtd } from '@pretext/objective-electra-rtd';

const [steps, seqLen, lr, batch, d, gw, genW, temp] = process.argv.slice(2).map(Number);
const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 8 }, path.resolve('src/x.ts'));
const trainDocs = corpus.documents.filter((_, i) => i % 10 !== 0);
const valDocs = corpus.documents.filter((_, i) => i % 10 === 0);
const outDir = await mkdtemp(path.join(os.tmpdir(), 'probe-'));
const t0 = performance.now();
const r = await train({
  objectives: [electraRtd({ generatorWidth: gw || 0.25, generatorWeight: genW || 1, temperature: temp || 1 })],
  data: { train: () => streamDocuments(trainDocs), validation: () => streamDocuments(valDocs) },
  vocabSize: corpus.vocabSize, special: corpus.special,
  model: { architecture: 'encoder', dModel: d || 64, nLayers: 2, nHeads: 2, dFF: 2 * (d || 64), maxPositions: 64, dropout: 0, typeVocabSize: 2 },
  outDir, seqLen, batchSize: batch, maxSteps: steps, learningRate: lr, warmupSteps: 4, evalEvery: Math.max(1, Math.round(steps / 6)), evalBatches: 4, checkpointEvery: 1000, seed: 3,
});
console.log('seconds', ((performance.now() - t0) / 1000).toFixed(1), 'backend', r.backend.name, 'vocab', corpus.vocabSize);
for (const l of (await readFile(r.metricsFile, 'utf8')).split('\n').filter(Boolean)) {
  const row = JSON.parse(l);
  if (row.split !== 'val') continue;
  const g = (k: string) => (row[`electra-rtd.${k}`] as number).toFixed(4);
  const rep = row['electra-rtd.replaced'];
  const h = -(rep * Math.log(rep) + (1 - rep) * Math.log(1 - rep));
  console.log(row.step, 'gen', g('generator'), 'disc', g('discriminator'), 'H', h.toFixed(4), 'acc', g('detection_accuracy'), 'base', (1 - rep).toFixed(4), 'recall', g('detection_recall'), 'genacc', g('generator_accuracy'));
}

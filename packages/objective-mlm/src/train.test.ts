import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadFixtureCorpus, streamDocuments } from '@pretext/objective-testing';
import { train, type ModelConfig } from '@pretext/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { mlm } from './mlm.js';

const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 8 }, import.meta.url);
const trainDocs = corpus.documents.filter((_, i) => i % 10 !== 0);
const valDocs = corpus.documents.filter((_, i) => i % 10 === 0);
const tiny: ModelConfig = { architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: 64, dropout: 0, typeVocabSize: 2 };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('mlm trains a tiny encoder on real text (the trainer’s encoder)', () => {
  it('lowers the held-out masked-LM loss and raises its accuracy', async () => {
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'pretext-mlm-'));
    dirs.push(outDir);
    const result = await train({
      objectives: [mlm()],
      data: { train: () => streamDocuments(trainDocs), validation: () => streamDocuments(valDocs) },
      vocabSize: corpus.vocabSize,
      special: corpus.special,
      model: tiny,
      outDir,
      seqLen: 64,
      batchSize: 16,
      maxSteps: 40,
      learningRate: 2e-3,
      warmupSteps: 4,
      evalEvery: 40,
      evalBatches: 4,
      checkpointEvery: 1000,
      seed: 3,
    });
    const val = (await readFile(result.metricsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, number | string>)
      .filter((r) => r['split'] === 'val');
    const [first, last] = [val[0]!, val[val.length - 1]!];
    // Untrained: about log(vocab) ≈ 7.0 nats. Forty steps reach the unigram level (~5.8 on this text).
    expect(first['mlm.mlm'] as number).toBeGreaterThan(Math.log(corpus.vocabSize) - 0.3);
    expect(last['mlm.mlm'] as number).toBeLessThan((first['mlm.mlm'] as number) - 0.8);
    expect(last['mlm.accuracy'] as number).toBeGreaterThan((first['mlm.accuracy'] as number) + 0.01);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadFixtureCorpus, streamDocuments } from '@pretext/objective-testing';
import { train } from '@pretext/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { spanCorruption } from './index.js';

const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 8 }, import.meta.url);
const trainDocs = corpus.documents.filter((_, i) => i % 10 !== 0);
const valDocs = corpus.documents.filter((_, i) => i % 10 === 0);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('span-corruption trains with the pretext trainer', () => {
  it('lowers the held-out loss of the corrupted tokens within 30 steps', async () => {
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'pretext-span-'));
    dirs.push(outDir);
    const result = await train({
      objectives: [spanCorruption()],
      data: { train: () => streamDocuments(trainDocs), validation: () => streamDocuments(valDocs) },
      vocabSize: corpus.vocabSize,
      special: corpus.special,
      model: { architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: 32, dropout: 0 },
      outDir,
      seqLen: 32,
      batchSize: 16,
      maxSteps: 30,
      learningRate: 3e-3,
      warmupSteps: 3,
      evalEvery: 30,
      evalBatches: 4,
      checkpointEvery: 1000,
      seed: 1,
    });
    const val = (await readFile(result.metricsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, number | string>)
      .filter((row) => row['split'] === 'val');
    const first = val[0]!['span-corruption.tokens'] as number;
    const last = val.at(-1)!['span-corruption.tokens'] as number;
    // Untrained: about log(vocabulary); thirty steps learn at least which tokens are frequent.
    expect(first).toBeGreaterThan(Math.log(corpus.vocabSize) - 0.3);
    expect(last).toBeLessThan(first - 0.8);
    expect(result.steps).toBe(30);
  });
});

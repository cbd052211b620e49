import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadFixtureCorpus } from './corpus.js';
import { identity } from './identity.test-helper.js';
import { trainOnFixture } from './train-fixture.js';

describe('trainOnFixture', () => {
  it('trains through token shards, returns the validation rows and removes its folder', async () => {
    const corpus = loadFixtureCorpus({ vocabWords: 200, sentencesPerDocument: 8, maxDocuments: 80 }, import.meta.url);
    const { result, validation, first, last } = await trainOnFixture({
      corpus,
      objectives: [identity()],
      model: { architecture: 'encoder', dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxPositions: 32, dropout: 0 },
      seqLen: 32,
      batchSize: 8,
      maxSteps: 12,
      learningRate: 1e-2,
      warmupSteps: 2,
      evalEvery: 6,
      evalBatches: 2,
      checkpointEvery: 1000,
      seed: 4,
    });
    expect(validation.map((r) => r['step'])).toEqual([0, 6, 12]);
    expect(first).toBe(validation[0]);
    expect(last).toBe(validation[2]);
    // Copying each token through the tied embeddings is learnable in a dozen steps.
    expect(last['identity.identity'] as number).toBeLessThan((first['identity.identity'] as number) - 0.5);
    expect(existsSync(result.runDir)).toBe(false);
  });
});

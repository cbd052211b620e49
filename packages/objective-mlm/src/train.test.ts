import { loadFixtureCorpus, trainOnFixture } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { mlm } from './mlm.js';

const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 8 }, import.meta.url);

describe('mlm trains a tiny encoder on real text (the trainer’s encoder)', () => {
  it('lowers the held-out masked-LM loss and raises its accuracy', async () => {
    const { first, last } = await trainOnFixture({
      corpus,
      objectives: [mlm()],
      model: { architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: 64, dropout: 0, typeVocabSize: 2 },
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
    // Untrained: about log(vocab) ≈ 7.0 nats. Forty steps reach the unigram level (~5.8 on this text).
    expect(first['mlm.mlm'] as number).toBeGreaterThan(Math.log(corpus.vocabSize) - 0.3);
    expect(last['mlm.mlm'] as number).toBeLessThan((first['mlm.mlm'] as number) - 0.8);
    expect(last['mlm.accuracy'] as number).toBeGreaterThan((first['mlm.accuracy'] as number) + 0.01);
  });
});

import { loadFixtureCorpus, trainOnFixture } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { electraRtd } from './electra.js';

const corpus = loadFixtureCorpus({ vocabWords: 300, sentencesPerDocument: 8 }, import.meta.url);

describe('electra-rtd trains a tiny encoder on real text (the trainer’s encoder and generator)', () => {
  // At ELECTRA's temperature 1 the generator matches the unigram distribution within ~30 steps, and a model this small
  // then needs far more than a test's budget to beat "always original" (measured: still at that baseline after 300
  // steps, with the discriminator's loss 3% under the label entropy; see the README). Sampling at temperature 5 keeps
  // the replacements easy enough for the whole loop to show detection within 60 steps.
  it('lowers the generator loss, and the discriminator beats always answering "original"', async () => {
    const { first, last } = await trainOnFixture({
      corpus,
      objectives: [electraRtd({ temperature: 5 })],
      // The discriminator; the generator is a quarter of its width (16), same depth.
      model: { architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: 32, dropout: 0, typeVocabSize: 2 },
      seqLen: 32,
      batchSize: 16,
      maxSteps: 60,
      learningRate: 3e-3,
      warmupSteps: 4,
      evalEvery: 60,
      evalBatches: 4,
      checkpointEvery: 1000,
      seed: 3,
    });
    const m = (row: Record<string, number | string>, key: string) => row[`electra-rtd.${key}`] as number;
    // The trainer weighs the terms as the head declares: 1 · generator + 50 · discriminator.
    for (const row of [first, last]) expect(row['loss'] as number).toBeCloseTo(m(row, 'generator') + 50 * m(row, 'discriminator'), 3);
    // Untrained, the generator is near log(vocab); it learns at least the unigram distribution.
    expect(m(first, 'generator')).toBeGreaterThan(Math.log(corpus.vocabSize) - 0.3);
    expect(m(last, 'generator')).toBeLessThan(m(first, 'generator') - 0.8);
    // Detection accuracy above the all-original baseline 1 − replaced, on the same validation rows, and a loss below
    // the labels' entropy (what the best constant guess costs).
    const replaced = m(last, 'replaced');
    expect(m(last, 'detection_accuracy')).toBeGreaterThan(1 - replaced + 0.01);
    expect(m(last, 'detection_recall')).toBeGreaterThan(0.1);
    expect(m(last, 'discriminator')).toBeLessThan(-(replaced * Math.log(replaced) + (1 - replaced) * Math.log(1 - replaced)) - 0.05);
  });
});

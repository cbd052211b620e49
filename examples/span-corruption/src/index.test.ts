import * as tf from '@tensorflow/tfjs';
import type { TF } from '@pretext/core';
import { describeObjectiveConformance } from '@pretext/objective-testing';
import { spanCorruption } from './index.js';

// Determinism under a seed, column shapes, no labels on padding or special tokens, exact sum/count accumulation,
// and a tiny model whose loss falls, on real text (the shared corpora next to the repository).
describeObjectiveConformance({ tf: tf as unknown as TF, objectives: () => [spanCorruption()], seqLen: 32 });

import * as tf from '@tensorflow/tfjs';
import type { TF } from '@pretext/core';
import { describeObjectiveConformance } from './conformance.js';
import { identity } from './identity.test-helper.js';

describeObjectiveConformance({ tf: tf as unknown as TF, objectives: () => [identity()], seqLen: 32, trainSteps: 12 });

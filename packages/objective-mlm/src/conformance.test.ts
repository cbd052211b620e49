import * as tf from '@tensorflow/tfjs';
import type { TF } from '@pretext/core';
import { describeObjectiveConformance } from '@pretext/objective-testing';
import { mlm } from './mlm.js';

describeObjectiveConformance({ tf: tf as unknown as TF, objectives: () => [mlm()] });

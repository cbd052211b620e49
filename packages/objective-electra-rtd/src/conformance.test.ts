import * as tf from '@tensorflow/tfjs';
import type { TF } from '@pretext/core';
import { describeObjectiveConformance } from '@pretext/objective-testing';
import { electraRtd } from './electra.js';

describeObjectiveConformance({ tf: tf as unknown as TF, objectives: () => [electraRtd()] });

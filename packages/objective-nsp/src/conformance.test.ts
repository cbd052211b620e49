import * as tf from '@tensorflow/tfjs';
import type { TF } from '@pretext/core';
import { mlm } from '@pretext/objective-mlm';
import { describeObjectiveConformance } from '@pretext/objective-testing';
import { nsp } from './nsp.js';

describeObjectiveConformance({ tf: tf as unknown as TF, objectives: () => [mlm(), nsp()] });

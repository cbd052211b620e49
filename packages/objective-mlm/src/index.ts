export { mlm, resolveMlmOptions } from './mlm.js';
export type { MlmOptions, ResolvedMlmOptions } from './mlm.js';
export { mlmHead, countLabels, crossEntropySum } from './head.js';
export { selectPositions, applyMask, predictionBudget, roundHalfEven, randomNonSpecial, specialIds } from './masking.js';
export type { MaskingConfig, Masked } from './masking.js';
export { singleSegmentExamples, boundaryIds } from './rows.js';
export { gelu, layerNorm, dense, gatherRows } from './layers.js';

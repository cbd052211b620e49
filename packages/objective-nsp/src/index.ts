export { nsp, resolveNspOptions, NSP_LABEL } from './nsp.js';
export type { NspOptions, ResolvedNspOptions } from './nsp.js';
export { pairHead } from './head.js';
export { pairInstances, pairExamples, pairRow, validatePairConfig } from './pairs.js';
export type { PairConfig, PairInstance, Span } from './pairs.js';

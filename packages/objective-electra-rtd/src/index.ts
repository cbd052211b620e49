export { electraRtd, resolveElectraRtdOptions } from './electra.js';
export type { ElectraRtdOptions, ResolvedElectraRtdOptions } from './electra.js';
export { electraHead, countTokens } from './head.js';
export type { ElectraHead, ElectraHeadConfig, Replacement } from './head.js';
export { electraExamples, electraRowPlans, electraRow } from './examples.js';
export type { ElectraExampleConfig, ElectraRowPlan } from './examples.js';
export { maskRow } from './masking.js';
export type { ElectraMaskingConfig } from './masking.js';
export { gumbelNoise, rowSeed } from './sampling.js';

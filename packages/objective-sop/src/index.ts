export { sop, resolveSopOptions, SOP_LABEL } from './sop.js';
export type { SopOptions, ResolvedSopOptions } from './sop.js';

export { clm } from './clm.js';
export type { ClmOptions } from './clm.js';

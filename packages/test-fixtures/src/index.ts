export { TestDataMissingError, repoRoot, sharedCorporaDir, corpus } from './corpora.js';
export { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments, stream } from './bytes.js';
export { numberOption, median, cpuTime, childCpu } from './bench.js';
export type { Timing } from './bench.js';
export { compileWat, wasmModuleSource } from './wasm.js';

export { ingest, STATS_FILE, REJECTS_FILE, DEFAULT_UNIT_BYTES } from './ingest.js';
export type { IngestOptions, IngestResult, IngestProgress } from './ingest.js';
export type { IngestStats, RunCounters } from './stats.js';
export { resolveFilters, resolveDedup, scoreFields, FILTER_DEFAULTS, INGEST_KINDS } from './config.js';
export type { FilterOptions, ResolvedFilters, IngestKind } from './config.js';
export type { LengthFilterOptions, GopherQualityOptions, GopherRepetitionOptions } from './filters.js';
export {
  GOPHER_QUALITY_DEFAULTS,
  GOPHER_REPETITION_DEFAULTS,
  words,
  lengthScores,
  gopherQualityScores,
  gopherRepetitionScores,
  gopherQualityVerdict,
  gopherRepetitionVerdict,
} from './filters.js';
export { identifyLanguage, identifyLanguageSync, loadLanguageModel, languageModel, LANGUAGE_MODEL_FILE } from './lid.js';
export { FastTextModel } from './fasttext.js';
export type { FastTextArgs, FastTextPrediction } from './fasttext.js';
export type { LanguageOptions, LanguageScore } from './lid.js';
export { MinHasher, normalizeForDedup, exactKey, jaccard, DEDUP_DEFAULTS } from './minhash.js';
export type { DedupOptions } from './minhash.js';
export { Deduplicator, U64Set } from './dedup.js';
export { expandInputs, planUnits } from './inputs.js';
export type { InputFile } from './inputs.js';
export type { Reject } from './rejects.js';
export { CHECKPOINT_FILE, DEDUP_LOG_FILE } from './checkpoint.js';
export { globalDedup, checkRanks, GlobalDedupError } from './global-dedup.js';
export type { GlobalDedupOptions, GlobalDedupProgress, GlobalDedupResult, GlobalDedupStats } from './global-dedup.js';
export { SignatureReader, SIGNATURES_FILE, HELD_FILE } from './signatures.js';
export type { SignatureFileInfo, SignatureHeader, SignatureBlock } from './signatures.js';

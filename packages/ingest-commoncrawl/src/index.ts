export { planCommonCrawl } from './plan.js';
export type { WorkUnit, PlanOptions } from './plan.js';
export { readCommonCrawl, COMMONCRAWL_META_FIELDS, normalizeText } from './read.js';
export type { ReadCommonCrawlOptions, SkipReason, SkipDetail, ReadProgress } from './read.js';
export { extractMainText } from './extract.js';
export type { ExtractOptions } from './extract.js';
export { decodeHtml } from './charset.js';
export type { Decoded } from './charset.js';

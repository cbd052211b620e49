export { planWikipedia, readIndexOffsets } from './plan.js';
export type { WorkUnit, PlanWikipediaOptions } from './plan.js';
export { readWikipedia, readSiteInfo, WIKIPEDIA_META_FIELDS } from './read.js';
export type { ReadWikipediaOptions, SkipReason, SkipDetail, ReadProgress } from './read.js';
export { wikitextToText } from './wikitext.js';
export type { WikitextOptions } from './wikitext.js';
export { parseSiteInfo } from './xml.js';
export type { SiteInfo } from './xml.js';

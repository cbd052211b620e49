import { ConfigError } from '@pretext/core';
import type { MetaField } from '@pretext/shards';
import {
  GOPHER_QUALITY_DEFAULTS,
  GOPHER_REPETITION_DEFAULTS,
  type GopherQualityOptions,
  type GopherRepetitionOptions,
  type LengthFilterOptions,
} from './filters.js';
import type { LanguageOptions } from './lid.js';
import { DEDUP_DEFAULTS, type DedupOptions } from './minhash.js';

export type IngestKind = 'books' | 'commoncrawl' | 'wikipedia';
export const INGEST_KINDS: readonly IngestKind[] = ['books', 'commoncrawl', 'wikipedia'];

/** Each filter: `false` turns it off (no score columns), an object sets options, absent takes the kind's default. */
export interface FilterOptions {
  length?: LengthFilterOptions | false;
  language?: LanguageOptions | false;
  gopherQuality?: GopherQualityOptions | false;
  gopherRepetition?: GopherRepetitionOptions | false;
}

export interface ResolvedFilters {
  length: (LengthFilterOptions & { drop: boolean }) | null;
  language: { languages: string[] | null; minScore: number; maxChars: number; drop: boolean } | null;
  gopherQuality: typeof GOPHER_QUALITY_DEFAULTS | null;
  gopherRepetition: Required<GopherRepetitionOptions> | null;
}

/**
 * Defaults by kind. Web text gets the Gopher rules in drop mode and Gopher's length bounds (50–100,000 words);
 * Wikipedia and books are edited text: their scores are written but only empty or near-empty documents are dropped.
 * Language identification scores every kind and drops only when `languages` is given.
 */
export const FILTER_DEFAULTS: Record<IngestKind, { length: LengthFilterOptions; qualityDrop: boolean; repetitionDrop: boolean }> = {
  commoncrawl: { length: { minWords: 50, maxWords: 100_000, minChars: 1 }, qualityDrop: true, repetitionDrop: true },
  wikipedia: { length: { minWords: 10, minChars: 1 }, qualityDrop: false, repetitionDrop: false },
  books: { length: { minWords: 1, minChars: 1 }, qualityDrop: false, repetitionDrop: false },
};

function nonNegative(key: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new ConfigError(key, v, 'a non-negative number');
}

export function resolveFilters(kind: IngestKind, f: FilterOptions = {}): ResolvedFilters {
  const d = FILTER_DEFAULTS[kind];
  const length = f.length === false ? null : { ...d.length, ...f.length, drop: f.length?.drop ?? true };
  if (length) for (const k of ['minWords', 'maxWords', 'minChars', 'maxChars'] as const) nonNegative(`filters.length.${k}`, length[k]);
  const language =
    f.language === false
      ? null
      : {
          languages: f.language?.languages ?? null,
          minScore: f.language?.minScore ?? 0.65,
          maxChars: f.language?.maxChars ?? 1000,
          drop: f.language?.drop ?? true,
        };
  if (language) {
    nonNegative('filters.language.minScore', language.minScore);
    if (!(Number.isInteger(language.maxChars) && language.maxChars > 0)) throw new ConfigError('filters.language.maxChars', language.maxChars, 'a positive integer');
  }
  const gopherQuality = f.gopherQuality === false ? null : { ...GOPHER_QUALITY_DEFAULTS, drop: d.qualityDrop, ...f.gopherQuality };
  const gopherRepetition = f.gopherRepetition === false ? null : { ...GOPHER_REPETITION_DEFAULTS, drop: d.repetitionDrop, ...f.gopherRepetition };
  return { length, language, gopherQuality, gopherRepetition };
}

export function resolveDedup(d: DedupOptions = {}): Required<DedupOptions> {
  const r = { ...DEDUP_DEFAULTS, ...d };
  for (const k of ['shingleSize', 'bands', 'rows'] as const) {
    if (!(Number.isInteger(r[k]) && r[k] > 0)) throw new ConfigError(`dedup.${k}`, r[k], 'a positive integer');
  }
  if (!Number.isInteger(r.seed)) throw new ConfigError('dedup.seed', r.seed, 'an integer');
  return r;
}

/** Score columns the enabled filters add after the source's meta columns. */
export function scoreFields(filters: ResolvedFilters): MetaField[] {
  const out: MetaField[] = [];
  if (filters.length) out.push({ name: 'n_words', type: 'int64' }, { name: 'n_chars', type: 'int64' });
  if (filters.language) out.push({ name: 'lid_language', type: 'utf8' }, { name: 'lid_score', type: 'float64' });
  if (filters.gopherQuality) {
    for (const name of ['mean_word_length', 'symbol_word_ratio', 'bullet_lines_ratio', 'ellipsis_lines_ratio', 'alpha_words_ratio']) {
      out.push({ name: `gopher_${name}`, type: 'float64' });
    }
    out.push({ name: 'gopher_stop_words', type: 'int64' });
  }
  if (filters.gopherRepetition) {
    for (const name of ['dup_line_frac', 'dup_para_frac', 'dup_line_char_frac', 'dup_para_char_frac', 'top_2gram_frac', 'top_3gram_frac', 'top_4gram_frac']) {
      out.push({ name: `gopher_${name}`, type: 'float64' });
    }
    for (let n = 5; n <= 10; n++) out.push({ name: `gopher_dup_${n}gram_frac`, type: 'float64' });
  }
  return out;
}

/**
 * Quality filters: length bounds and the Gopher quality and repetition rules (Rae et al. 2021, "Scaling Language
 * Models: Methods, Analysis & Insights from Training Gopher", appendix A), with the thresholds datatrove uses.
 * Every filter computes its scores for every document (they become columns); a rule only drops a document when
 * its filter is in drop mode. Words are whitespace-delimited tokens, as in the paper.
 */

export interface LengthFilterOptions {
  /** Fewer words than this: dropped (`too-short`). Gopher: 50 (the commoncrawl default). */
  minWords?: number;
  /** More words than this: dropped (`too-long`). Gopher: 100,000. */
  maxWords?: number;
  /** Fewer characters (UTF-16 code units) than this: dropped (`too-short`). Default 1. */
  minChars?: number;
  /** More characters than this: dropped (`too-long`). Default none. */
  maxChars?: number;
  /** `false`: only write the scores. Default true. */
  drop?: boolean;
}

export interface GopherQualityOptions {
  /** Mean length of non-symbol words must lie in [min, max]. Gopher: 3 and 10. */
  minMeanWordLength?: number;
  maxMeanWordLength?: number;
  /** `#` and ellipses per word at most this. Gopher: 0.1. */
  maxSymbolWordRatio?: number;
  /** Fraction of lines starting with a bullet at most this. Gopher: 0.9. */
  maxBulletLinesRatio?: number;
  /** Fraction of lines ending with an ellipsis at most this. Gopher: 0.3. */
  maxEllipsisLinesRatio?: number;
  /** Fraction of words holding at least one letter at least this. Gopher: 0.8. */
  minAlphaWordsRatio?: number;
  /** At least this many of the English stop words the, be, to, of, and, that, have, with. Gopher: 2. */
  minStopWords?: number;
  /**
   * The rules are English rules (stop words, word lengths): they drop only documents whose identified language is in
   * this list (when language identification is on). Default `['en']`; `null`: every document.
   */
  languages?: string[] | null;
  drop?: boolean;
}

export interface GopherRepetitionOptions {
  /** Fraction of lines that repeat an earlier line. Gopher: 0.3. */
  maxDupLineFrac?: number;
  /** Fraction of paragraphs that repeat an earlier paragraph. Gopher: 0.3. */
  maxDupParaFrac?: number;
  /** Characters in repeated lines / all characters. Gopher: 0.2. */
  maxDupLineCharFrac?: number;
  /** Characters in repeated paragraphs / all characters. Gopher: 0.2. */
  maxDupParaCharFrac?: number;
  /** Characters covered by the most frequent n-gram, n = 2, 3, 4. Gopher: 0.2, 0.18, 0.16. */
  maxTopNgramFrac?: [number, number, number];
  /** Characters in duplicated n-grams, n = 5 … 10. Gopher: 0.15, 0.14, 0.13, 0.12, 0.11, 0.10. */
  maxDupNgramFrac?: [number, number, number, number, number, number];
  drop?: boolean;
}

export const GOPHER_QUALITY_DEFAULTS: Required<Omit<GopherQualityOptions, 'languages'>> & { languages: string[] | null } = {
  minMeanWordLength: 3,
  maxMeanWordLength: 10,
  maxSymbolWordRatio: 0.1,
  maxBulletLinesRatio: 0.9,
  maxEllipsisLinesRatio: 0.3,
  minAlphaWordsRatio: 0.8,
  minStopWords: 2,
  languages: ['en'],
  drop: true,
};

export const GOPHER_REPETITION_DEFAULTS: Required<GopherRepetitionOptions> = {
  maxDupLineFrac: 0.3,
  maxDupParaFrac: 0.3,
  maxDupLineCharFrac: 0.2,
  maxDupParaCharFrac: 0.2,
  maxTopNgramFrac: [0.2, 0.18, 0.16],
  maxDupNgramFrac: [0.15, 0.14, 0.13, 0.12, 0.11, 0.1],
  drop: true,
};

const WS = /\s+/;

/** Whitespace-delimited words (empty tokens removed). */
export function words(text: string): string[] {
  const out = text.split(WS);
  if (out.length > 0 && out[0] === '') out.shift();
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Length

export interface LengthScores {
  n_words: number;
  n_chars: number;
}

export function lengthScores(text: string, wordList: readonly string[]): LengthScores {
  return { n_words: wordList.length, n_chars: text.length };
}

/** The drop reason of the length filter, or null. */
export function lengthVerdict(s: LengthScores, o: LengthFilterOptions): string | null {
  if (o.minChars !== undefined && s.n_chars < o.minChars) return 'too-short';
  if (o.minWords !== undefined && s.n_words < o.minWords) return 'too-short';
  if (o.maxWords !== undefined && s.n_words > o.maxWords) return 'too-long';
  if (o.maxChars !== undefined && s.n_chars > o.maxChars) return 'too-long';
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Gopher quality

const STOP_WORDS = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with']);
const HAS_ALPHA = /\p{L}/u;
const NON_PUNCT = /[^\p{P}\p{S}]/u;
const EDGE_PUNCT = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;

export interface GopherQualityScores {
  gopher_mean_word_length: number;
  gopher_symbol_word_ratio: number;
  gopher_bullet_lines_ratio: number;
  gopher_ellipsis_lines_ratio: number;
  gopher_alpha_words_ratio: number;
  gopher_stop_words: number;
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

export function gopherQualityScores(text: string, wordList: readonly string[]): GopherQualityScores {
  const n = wordList.length;
  let nonSymbol = 0;
  let nonSymbolChars = 0;
  let alpha = 0;
  let stop = 0;
  for (const w of wordList) {
    // ASCII fast path (the regexes cost more than the rest of the filter); other scripts use the Unicode classes.
    let hasAlpha = false;
    let nonPunct = false;
    let ascii = true;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      if (c >= 128) {
        ascii = false;
        break;
      }
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
        hasAlpha = nonPunct = true;
        break;
      }
      if (c >= 48 && c <= 57) nonPunct = true;
    }
    if (!ascii) {
      hasAlpha = HAS_ALPHA.test(w);
      nonPunct = hasAlpha || NON_PUNCT.test(w);
    }
    if (nonPunct) {
      nonSymbol++;
      nonSymbolChars += w.length;
    }
    if (hasAlpha) {
      alpha++;
      // The stop words have 2–4 letters: longer tokens need no lower-casing.
      if (w.length <= 12 && STOP_WORDS.has(w.toLowerCase().replace(EDGE_PUNCT, ''))) stop++;
    }
  }
  const lines = text.split(/\r\n|\r|\n/);
  let bullets = 0;
  let ellipses = 0;
  for (const line of lines) {
    const l = line.trimStart();
    if (l.startsWith('•') || l.startsWith('-')) bullets++;
    const r = line.trimEnd();
    if (r.endsWith('...') || r.endsWith('…')) ellipses++;
  }
  const symbols = Math.max(countOf(text, '#'), countOf(text, '...') + countOf(text, '…'));
  return {
    gopher_mean_word_length: nonSymbol > 0 ? nonSymbolChars / nonSymbol : 0,
    gopher_symbol_word_ratio: n > 0 ? symbols / n : 0,
    gopher_bullet_lines_ratio: lines.length > 0 ? bullets / lines.length : 0,
    gopher_ellipsis_lines_ratio: lines.length > 0 ? ellipses / lines.length : 0,
    gopher_alpha_words_ratio: n > 0 ? alpha / n : 0,
    gopher_stop_words: stop,
  };
}

export function gopherQualityVerdict(s: GopherQualityScores, o: typeof GOPHER_QUALITY_DEFAULTS): string | null {
  if (s.gopher_mean_word_length < o.minMeanWordLength) return 'gopher-quality:mean-word-length';
  if (s.gopher_mean_word_length > o.maxMeanWordLength) return 'gopher-quality:mean-word-length';
  if (s.gopher_symbol_word_ratio > o.maxSymbolWordRatio) return 'gopher-quality:symbol-word-ratio';
  if (s.gopher_bullet_lines_ratio > o.maxBulletLinesRatio) return 'gopher-quality:bullet-lines';
  if (s.gopher_ellipsis_lines_ratio > o.maxEllipsisLinesRatio) return 'gopher-quality:ellipsis-lines';
  if (s.gopher_alpha_words_ratio < o.minAlphaWordsRatio) return 'gopher-quality:alpha-words';
  if (s.gopher_stop_words < o.minStopWords) return 'gopher-quality:stop-words';
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Gopher repetition

export interface GopherRepetitionScores {
  gopher_dup_line_frac: number;
  gopher_dup_para_frac: number;
  gopher_dup_line_char_frac: number;
  gopher_dup_para_char_frac: number;
  gopher_top_2gram_frac: number;
  gopher_top_3gram_frac: number;
  gopher_top_4gram_frac: number;
  gopher_dup_5gram_frac: number;
  gopher_dup_6gram_frac: number;
  gopher_dup_7gram_frac: number;
  gopher_dup_8gram_frac: number;
  gopher_dup_9gram_frac: number;
  gopher_dup_10gram_frac: number;
}

/** Repeated segments: how many repeat an earlier one, and their characters. */
function dupStats(segments: readonly string[]): [number, number] {
  const seen = new Set<string>();
  let dups = 0;
  let chars = 0;
  for (const s of segments) {
    if (seen.has(s)) {
      dups++;
      chars += s.length;
    } else {
      seen.add(s);
    }
  }
  return [dups, chars];
}

/**
 * Counts of word n-grams in typed arrays (open addressing on a 64-bit key of the n-gram's word ids). One joined
 * string per n-gram for n = 2…10, as datatrove does, or a Map keyed by doubles, ran at under 1 MB/s on books.
 */
function mixLo(h: number, v: number): number {
  h = Math.imul(h + v + 1, 0x5bd1e995);
  return (h ^ (h >>> 13)) >>> 0;
}

class NgramTable {
  private hi: Uint32Array;
  private lo: Uint32Array;
  /** 0: empty slot. */
  readonly count: Int32Array;
  readonly first: Int32Array;
  private mask: number;

  constructor(items: number) {
    let n = 16;
    while (n < items * 2) n *= 2;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.count = new Int32Array(n);
    this.first = new Int32Array(n);
    this.mask = n - 1;
  }

  clear(): void {
    this.count.fill(0);
  }

  /** Adds one occurrence at word `at`; returns the slot. */
  add(hi: number, lo: number, at: number): number {
    let i = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      if (this.count[i] === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.count[i] = 1;
        this.first[i] = at;
        return i;
      }
      if (this.hi[i] === hi && this.lo[i] === lo) {
        this.count[i]!++;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }
}

export function gopherRepetitionScores(text: string, wordList: readonly string[]): GopherRepetitionScores {
  const len = Math.max(1, text.length);
  const paragraphs = text.trim().split(/\n{2,}/);
  const [paraDups, paraChars] = dupStats(paragraphs);
  const lines = text.split(/\n+/);
  const [lineDups, lineChars] = dupStats(lines);

  const vocab = new Map<string, number>();
  const ids = new Int32Array(wordList.length);
  const wordLen = new Int32Array(wordList.length);
  wordList.forEach((w, i) => {
    let id = vocab.get(w);
    if (id === undefined) vocab.set(w, (id = vocab.size));
    ids[i] = id;
    wordLen[i] = w.length;
  });
  // prefix sums of word lengths: characters of words[i, j) = prefix[j] - prefix[i]
  const prefix = new Float64Array(wordList.length + 1);
  for (let i = 0; i < wordList.length; i++) prefix[i + 1] = prefix[i]! + wordLen[i]!;

  const table = new NgramTable(wordList.length);
  // 64-bit keys of ids[i, i + n), built up one word at a time as n grows (2, 3, …, 10): one mix per word per n.
  const keyHi = new Uint32Array(wordList.length);
  const keyLo = new Uint32Array(wordList.length);
  for (let i = 0; i < wordList.length; i++) {
    keyHi[i] = Math.imul(0x9e3779b9 ^ ids[i]!, 0x01000193) >>> 0;
    keyLo[i] = mixLo(0x85ebca6b, ids[i]!);
  }
  let keyN = 1;
  const keys = (n: number): number => {
    for (; keyN < n; keyN++) {
      for (let i = 0; i + keyN < wordList.length; i++) {
        const v = ids[i + keyN]!;
        keyHi[i] = Math.imul(keyHi[i]! ^ v, 0x01000193) >>> 0;
        keyLo[i] = mixLo(keyLo[i]!, v);
      }
    }
    return wordList.length - n + 1;
  };

  /** Python's Counter.most_common(1): the highest count, the first seen among ties; chars = len(" ".join(gram)) * count. */
  const topFrac = (n: number): number => {
    if (wordList.length < n) return 0;
    const count = keys(n);
    table.clear();
    let bestCount = 0;
    let bestAt = 0;
    for (let i = 0; i < count; i++) {
      const slot = table.add(keyHi[i]!, keyLo[i]!, i);
      const c = table.count[slot]!;
      const first = table.first[slot]!;
      // Counter keeps first-insertion order among equal counts: the earlier first occurrence wins a tie.
      if (c > bestCount || (c === bestCount && first < bestAt)) {
        bestCount = c;
        bestAt = first;
      }
    }
    const chars = prefix[bestAt + n]! - prefix[bestAt]! + (n - 1);
    return (chars * bestCount) / len;
  };

  /** datatrove's find_all_duplicate: characters of n-grams that repeat an earlier one, skipping past each repeat. */
  const dupFrac = (n: number): number => {
    if (wordList.length < n) return 0;
    keys(n);
    table.clear();
    let chars = 0;
    let i = 0;
    while (i < wordList.length - n + 1) {
      const slot = table.add(keyHi[i]!, keyLo[i]!, i);
      if (table.count[slot]! > 1) {
        chars += prefix[i + n]! - prefix[i]!;
        i += n;
      } else {
        i++;
      }
    }
    return chars / len;
  };

  return {
    gopher_dup_line_frac: lines.length > 0 ? lineDups / lines.length : 0,
    gopher_dup_para_frac: paragraphs.length > 0 ? paraDups / paragraphs.length : 0,
    gopher_dup_line_char_frac: lineChars / len,
    gopher_dup_para_char_frac: paraChars / len,
    gopher_top_2gram_frac: topFrac(2),
    gopher_top_3gram_frac: topFrac(3),
    gopher_top_4gram_frac: topFrac(4),
    gopher_dup_5gram_frac: dupFrac(5),
    gopher_dup_6gram_frac: dupFrac(6),
    gopher_dup_7gram_frac: dupFrac(7),
    gopher_dup_8gram_frac: dupFrac(8),
    gopher_dup_9gram_frac: dupFrac(9),
    gopher_dup_10gram_frac: dupFrac(10),
  };
}

export function gopherRepetitionVerdict(s: GopherRepetitionScores, o: Required<GopherRepetitionOptions>): string | null {
  if (s.gopher_dup_para_frac > o.maxDupParaFrac) return 'gopher-repetition:dup-para-frac';
  if (s.gopher_dup_para_char_frac > o.maxDupParaCharFrac) return 'gopher-repetition:dup-para-char-frac';
  if (s.gopher_dup_line_frac > o.maxDupLineFrac) return 'gopher-repetition:dup-line-frac';
  if (s.gopher_dup_line_char_frac > o.maxDupLineCharFrac) return 'gopher-repetition:dup-line-char-frac';
  const tops = [s.gopher_top_2gram_frac, s.gopher_top_3gram_frac, s.gopher_top_4gram_frac];
  for (let k = 0; k < 3; k++) if (tops[k]! > o.maxTopNgramFrac[k]!) return `gopher-repetition:top-${k + 2}gram`;
  const dups = [s.gopher_dup_5gram_frac, s.gopher_dup_6gram_frac, s.gopher_dup_7gram_frac, s.gopher_dup_8gram_frac, s.gopher_dup_9gram_frac, s.gopher_dup_10gram_frac];
  for (let k = 0; k < 6; k++) if (dups[k]! > o.maxDupNgramFrac[k]!) return `gopher-repetition:dup-${k + 5}gram`;
  return null;
}

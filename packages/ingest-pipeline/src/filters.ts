import { astralClass, charClasses, LETTER, LOWERS_TO_ASCII, pairAt, PS, SpanSet, SURROGATE, WordSpans, WS as SPACE } from './scan.js';

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

/** `words`: `words(text)`, or its spans (only the count is used). */
export function lengthScores(text: string, words: { readonly length: number } | WordSpans): LengthScores {
  return { n_words: words instanceof WordSpans ? words.count : words.length, n_chars: text.length };
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

/** Is the ASCII word `text[s, e)` (edge punctuation stripped, any case) one of the stop words? */
function asciiStopWord(text: string, s: number, e: number): boolean {
  const cls = charClasses();
  while (s < e && cls[text.charCodeAt(s)]! & PS) s++;
  while (e > s && cls[text.charCodeAt(e - 1)]! & PS) e--;
  const n = e - s;
  if (n < 2 || n > 4) return false;
  // Lower-cased letters packed into one number: no string per word.
  let key = 0;
  for (let i = s; i < e; i++) key = key * 128 + (text.charCodeAt(i) | (text.charCodeAt(i) >= 65 && text.charCodeAt(i) <= 90 ? 32 : 0));
  return STOP_KEYS.has(key);
}
const STOP_KEYS = new Set([...STOP_WORDS].map((w) => [...w].reduce((k, c) => k * 128 + c.charCodeAt(0), 0)));

const sharedSpans = new WordSpans();

/**
 * The Gopher quality statistics. `wordList` is not needed any more (the words are found in the text in the same
 * pass, as `words(text)` would give them) and is accepted for compatibility.
 */
export function gopherQualityScores(text: string, wordList?: readonly string[], spans?: WordSpans): GopherQualityScores {
  void wordList;
  const sp = spans ?? sharedSpans.scan(text);
  const cls = charClasses();
  const n = sp.count;
  let nonSymbol = 0;
  let nonSymbolChars = 0;
  let alpha = 0;
  let stop = 0;
  for (let k = 0; k < n; k++) {
    const s = sp.start[k]!;
    const e = sp.end[k]!;
    // The definitions: \p{L} anywhere (hasAlpha), a code point outside [\p{P}\p{S}] (nonPunct). Earlier versions took
    // an ASCII shortcut for words of ASCII only, where a control character did not count as non-punctuation: kept.
    let hasAlpha = false;
    let asciiLetterOrDigit = false;
    let nonPS = false;
    let ascii = true;
    // Could the core (edge punctuation stripped, lower-cased) be an ASCII stop word? Not with another character in it.
    let stopCandidate = true;
    for (let i = s; i < e; i++) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
          hasAlpha = asciiLetterOrDigit = nonPS = true;
        } else if (c >= 48 && c <= 57) {
          asciiLetterOrDigit = nonPS = true;
          stopCandidate = false;
        } else if (!(cls[c]! & PS)) {
          nonPS = true;
          stopCandidate = false;
        }
        continue;
      }
      ascii = false;
      let f = cls[c]!;
      if (f & SURROGATE) {
        const w = pairAt(text, i, e);
        f = w === 2 ? astralClass(text.codePointAt(i)!) : 0;
        i += w - 1;
        if (!(f & PS)) stopCandidate = false;
      } else if (!(f & PS) && !(f & LOWERS_TO_ASCII)) {
        stopCandidate = false;
      }
      if (f & LETTER) hasAlpha = true;
      if (!(f & PS)) nonPS = true;
    }
    const nonPunct = ascii ? asciiLetterOrDigit : hasAlpha || nonPS;
    if (nonPunct) {
      nonSymbol++;
      nonSymbolChars += e - s;
    }
    if (hasAlpha) {
      alpha++;
      // The stop words have 2–4 letters: longer tokens need no lower-casing.
      if (e - s <= 12 && stopCandidate) {
        if (ascii) {
          if (asciiStopWord(text, s, e)) stop++;
        } else if (STOP_WORDS.has(text.slice(s, e).toLowerCase().replace(EDGE_PUNCT, ''))) {
          // Edge punctuation outside ASCII, or a character that lower-cases to ASCII: the definition itself.
          stop++;
        }
      }
    }
  }
  // Lines as `text.split(/\r\n|\r|\n/)` gives them; a bullet line starts with • or - after leading space, an ellipsis
  // line ends with ... or … before trailing space.
  let lines = 0;
  let bullets = 0;
  let ellipses = 0;
  const len = text.length;
  let ls = 0;
  for (;;) {
    let le = ls;
    while (le < len) {
      const c = text.charCodeAt(le);
      if (c === 10 || c === 13) break;
      le++;
    }
    lines++;
    let a = ls;
    while (a < le && cls[text.charCodeAt(a)]! & SPACE) a++;
    if (a < le) {
      const c = text.charCodeAt(a);
      if (c === 0x2022 || c === 45) bullets++;
      let b = le;
      while (b > a && cls[text.charCodeAt(b - 1)]! & SPACE) b--;
      const z = text.charCodeAt(b - 1);
      if (z === 0x2026 || (z === 46 && b - a >= 3 && text.charCodeAt(b - 2) === 46 && text.charCodeAt(b - 3) === 46)) ellipses++;
    }
    if (le >= len) break;
    ls = text.charCodeAt(le) === 13 && text.charCodeAt(le + 1) === 10 ? le + 2 : le + 1;
  }
  const symbols = Math.max(countOf(text, '#'), countOf(text, '...') + countOf(text, '…'));
  return {
    gopher_mean_word_length: nonSymbol > 0 ? nonSymbolChars / nonSymbol : 0,
    gopher_symbol_word_ratio: n > 0 ? symbols / n : 0,
    gopher_bullet_lines_ratio: lines > 0 ? bullets / lines : 0,
    gopher_ellipsis_lines_ratio: lines > 0 ? ellipses / lines : 0,
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

const segments = new SpanSet();

/** Repeated segments of `text` (spans in `bounds`, start/end pairs): how many repeat an earlier one, and their characters. */
function dupStats(text: string, bounds: Int32Array, count: number): [number, number] {
  segments.reset(text, count);
  let dups = 0;
  let chars = 0;
  for (let k = 0; k < count; k++) {
    const s = bounds[2 * k]!;
    const e = bounds[2 * k + 1]!;
    if (segments.add(s, e) < 0) {
      dups++;
      chars += e - s;
    }
  }
  return [dups, chars];
}

let boundsBuffer = new Int32Array(2048);
/** Spans of `text[from, to)` split at runs of at least `minRun` newlines (`split(/\n{minRun,}/)`), into `boundsBuffer`. */
function splitNewlines(text: string, from: number, to: number, minRun: number): number {
  let n = 0;
  let s = from;
  let i = from;
  const push = (e: number) => {
    if (2 * n + 2 > boundsBuffer.length) {
      const b = new Int32Array(boundsBuffer.length * 2);
      b.set(boundsBuffer);
      boundsBuffer = b;
    }
    boundsBuffer[2 * n] = s;
    boundsBuffer[2 * n + 1] = e;
    n++;
  };
  for (;;) {
    i = text.indexOf('\n', i);
    if (i < 0 || i >= to) break;
    let j = i + 1;
    while (j < to && text.charCodeAt(j) === 10) j++;
    if (j - i >= minRun) {
      push(i);
      s = j;
    }
    i = j;
  }
  push(to);
  return n;
}

/**
 * Counts of word n-grams in typed arrays (open addressing on a 64-bit key of the n-gram's word ids). One joined
 * string per n-gram for n = 2…10, as datatrove does, or a Map keyed by doubles, ran at under 1 MB/s on books.
 */
function mixLo(h: number, v: number): number {
  h = Math.imul(h + v + 1, 0x5bd1e995);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Reused from one document to the next (sized for the largest so far): no typed arrays allocated per document. A slot
 * is four consecutive words (key hi, key lo, count, first position), so a probe touches one cache line; four separate
 * arrays cost four misses per insert on long documents.
 */
class NgramTable {
  /** [hi, lo, count, first] per slot; count 0: empty. */
  data = new Int32Array(4 * 1024);
  private mask = 1023;

  /** Empties the table for up to `items` n-grams. Only the part in use is cleared. */
  reset(items: number): void {
    let n = 16;
    while (n < items * 2) n *= 2;
    if (4 * n > this.data.length) this.data = new Int32Array(4 * n);
    else this.data.fill(0, 0, 4 * n);
    this.mask = n - 1;
  }

  /** Adds one occurrence at word `at`; returns the slot's index in `data` (its count at +2, first position at +3). */
  add(hi: number, lo: number, at: number): number {
    const d = this.data;
    let i = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      const b = 4 * i;
      if (d[b + 2] === 0) {
        d[b] = hi;
        d[b + 1] = lo;
        d[b + 2] = 1;
        d[b + 3] = at;
        return b;
      }
      if (d[b] === (hi | 0) && d[b + 1] === (lo | 0)) {
        d[b + 2]!++;
        return b;
      }
      i = (i + 1) & this.mask;
    }
  }
}

const table = new NgramTable();
let ids = new Int32Array(4096);
let prefix = new Float64Array(4097);
let keyHi = new Uint32Array(4096);
let keyLo = new Uint32Array(4096);
/** Positions whose n-gram may occur twice (the candidates), and each candidate's slot in the table. */
let cand = new Int32Array(4096);
let slotOf = new Int32Array(4096);

const vocabulary = new SpanSet();

/**
 * The Gopher repetition statistics (datatrove's). `wordList` is not needed any more (the words are found in the
 * text, as `words(text)` would give them) and is accepted for compatibility.
 */
export function gopherRepetitionScores(text: string, wordList?: readonly string[], spans?: WordSpans): GopherRepetitionScores {
  void wordList;
  const sp = spans ?? sharedSpans.scan(text);
  const cls = charClasses();
  const len = Math.max(1, text.length);
  // Paragraphs: text.trim().split(/\n{2,}/); lines: text.split(/\n+/). Compared by content, without the strings.
  let t0 = 0;
  let t1 = text.length;
  while (t0 < t1 && cls[text.charCodeAt(t0)]! & SPACE) t0++;
  while (t1 > t0 && cls[text.charCodeAt(t1 - 1)]! & SPACE) t1--;
  const paragraphCount = splitNewlines(text, t0, t1, 2);
  const [paraDups, paraChars] = dupStats(text, boundsBuffer, paragraphCount);
  const lineCount = splitNewlines(text, 0, text.length, 1);
  const [lineDups, lineChars] = dupStats(text, boundsBuffer, lineCount);

  const words = sp.count;
  vocabulary.reset(text, words);
  if (ids.length < words) {
    ids = new Int32Array(2 * words);
    prefix = new Float64Array(2 * words + 1);
    keyHi = new Uint32Array(2 * words);
    keyLo = new Uint32Array(2 * words);
    cand = new Int32Array(2 * words);
    slotOf = new Int32Array(2 * words);
  }
  // prefix sums of word lengths: characters of words[i, j) = prefix[j] - prefix[i]
  prefix[0] = 0;
  for (let i = 0; i < words; i++) {
    const s = sp.start[i]!;
    const e = sp.end[i]!;
    const id = vocabulary.add(s, e);
    ids[i] = id < 0 ? -1 - id : id;
    prefix[i + 1] = prefix[i]! + (e - s);
  }
  // 64-bit keys of ids[i, i + n), built up one word at a time as n grows (2, 3, …, 10): one mix per word per n.
  for (let i = 0; i < words; i++) {
    keyHi[i] = Math.imul(0x9e3779b9 ^ ids[i]!, 0x01000193) >>> 0;
    keyLo[i] = mixLo(0x85ebca6b, ids[i]!);
    cand[i] = i;
  }
  // An n-gram can occur twice only where its (n − 1)-word prefix occurs twice. So each n looks only at the positions
  // whose (n − 1)-gram repeats (the candidates; every position for n = 2): the n-grams left out occur once, which
  // changes no count of a repeating n-gram and no answer below. On prose few 4-grams repeat, so n = 5…10 cost little.
  let candidates = Math.max(0, words - 1); // positions that start a 2-gram
  let keyN = 1;

  /** Counts the candidates' n-grams (their slots in `slotOf`); false if none occurs twice. */
  const count = (n: number): boolean => {
    for (; keyN < n; keyN++) {
      for (let k = 0; k < candidates; k++) {
        const i = cand[k]!;
        const v = ids[i + keyN]!;
        keyHi[i] = Math.imul(keyHi[i]! ^ v, 0x01000193) >>> 0;
        keyLo[i] = mixLo(keyLo[i]!, v);
      }
    }
    table.reset(candidates);
    const d = table.data;
    let repeats = false;
    for (let k = 0; k < candidates; k++) {
      const i = cand[k]!;
      const b = table.add(keyHi[i]!, keyLo[i]!, i);
      slotOf[k] = b;
      if (d[b + 2]! > 1) repeats = true;
    }
    return repeats;
  };
  /** Keeps the candidates whose n-gram repeats and that start an (n + 1)-gram (call right after `count(n)`). */
  const narrow = (n: number) => {
    const d = table.data;
    let m = 0;
    for (let k = 0; k < candidates; k++) {
      const i = cand[k]!;
      if (d[slotOf[k]! + 2]! > 1 && i + n + 1 <= words) cand[m++] = i;
    }
    candidates = m;
  };

  /** Python's Counter.most_common(1): the highest count, the first seen among ties; chars = len(" ".join(gram)) * count. */
  const topFrac = (n: number): number => {
    if (words < n) return 0;
    if (candidates === 0 || !count(n)) {
      // Every n-gram occurs once: the first one is the most common.
      candidates = 0;
      return (prefix[n]! - prefix[0]! + (n - 1)) / len;
    }
    const d = table.data;
    let bestCount = 0;
    let bestAt = 0;
    for (let k = 0; k < candidates; k++) {
      const b = slotOf[k]!;
      const c = d[b + 2]!;
      const first = d[b + 3]!;
      if (c > bestCount || (c === bestCount && first < bestAt)) {
        bestCount = c;
        bestAt = first;
      }
    }
    narrow(n);
    const chars = prefix[bestAt + n]! - prefix[bestAt]! + (n - 1);
    return (chars * bestCount) / len;
  };

  /** datatrove's find_all_duplicate: characters of n-grams that repeat an earlier one, skipping past each repeat. */
  const dupFrac = (n: number): number => {
    if (words < n || candidates === 0) return 0;
    if (!count(n)) {
      candidates = 0;
      return 0;
    }
    // The walk below inserts only some n-grams (it skips past each repeat), so the next candidates come from the
    // full count just made: flag them now, keep them after the walk.
    const d0 = table.data;
    for (let k = 0; k < candidates; k++) slotOf[k] = d0[slotOf[k]! + 2]! > 1 && cand[k]! + n + 1 <= words ? 1 : 0;
    table.reset(candidates);
    const d = table.data;
    let chars = 0;
    let k = 0;
    while (k < candidates) {
      const i = cand[k]!;
      const b = table.add(keyHi[i]!, keyLo[i]!, i);
      k++;
      if (d[b + 2]! > 1) {
        chars += prefix[i + n]! - prefix[i]!;
        // Positions before i + n are skipped, as datatrove's index jumps by n.
        while (k < candidates && cand[k]! < i + n) k++;
      }
    }
    let m = 0;
    for (let j = 0; j < candidates; j++) if (slotOf[j] === 1) cand[m++] = cand[j]!;
    candidates = m;
    return chars / len;
  };

  return {
    gopher_dup_line_frac: lineCount > 0 ? lineDups / lineCount : 0,
    gopher_dup_para_frac: paragraphCount > 0 ? paraDups / paragraphCount : 0,
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

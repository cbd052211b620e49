/**
 * Sentence boundaries for next-sentence and sentence-order objectives, by a rule rather than a model: a sentence
 * starts after terminal punctuation (. ! ? …, optionally followed by closing quotes or brackets) plus whitespace
 * when the next character is an upper-case letter, a digit or an opening quote; after a CJK full stop (。！？);
 * and after a blank line. A period after a known abbreviation (Mr., Dr., e.g.) or a single capital initial
 * (J. Smith) does not end a sentence.
 */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'messrs', 'dr', 'st', 'jr', 'sr', 'prof', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'no', 'nos', 'vol', 'fig',
  'gen', 'col', 'capt', 'lt', 'sgt', 'maj', 'rev', 'hon', 'gov', 'sen', 'rep', 'pres', 'co', 'corp', 'inc', 'ltd', 'dept', 'univ',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'approx', 'esq', 'viz', 'ch', 'pp', 'ed',
]);
const CLOSERS = new Set(['"', "'", ')', ']', '}', '\u201d', '\u2019', '\u00bb', '\u300d', '\u300f', '\uff09', '\u3011']);
const OPENERS = new Set(['"', "'", '(', '[', '\u201c', '\u2018', '\u00ab', '\u300c', '\u300e']);
const UPPER = /[\p{Lu}\p{Lt}\p{Nd}]/u;
const WHITE = /\p{White_Space}/u;
const LETTER = /[\p{L}.]/u;

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && WHITE.test(ch);
}

function abbreviationBefore(text: string, dot: number): boolean {
  let k = dot;
  while (k > 0 && LETTER.test(text[k - 1]!)) k--;
  const word = text.slice(k, dot);
  if (word.length === 1 && /\p{Lu}/u.test(word)) return true; // an initial
  return ABBREVIATIONS.has(word.toLowerCase());
}

/** UTF-16 offsets where sentences after the first begin, ascending (the first sentence starts at 0). */
export function sentenceOffsets(text: string): number[] {
  const out: number[] = [];
  const n = text.length;
  const push = (k: number) => {
    if (k < n && k > 0 && (out.length === 0 || k > out[out.length - 1]!)) out.push(k);
  };
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    // only . ! ? … 。！？ and newline can end a sentence: skip everything else without making a string
    if (code !== 46 && code !== 33 && code !== 63 && code !== 10 && code !== 0x2026 && code !== 0x3002 && code !== 0xff01 && code !== 0xff1f) continue;
    const c = text[i]!;
    if (c === '.' || c === '!' || c === '?' || c === '\u2026') {
      let j = i + 1;
      while (j < n && (CLOSERS.has(text[j]!) || text[j] === '.' || text[j] === '!' || text[j] === '?')) j++;
      if (j < n && isSpace(text[j])) {
        let k = j;
        while (k < n && isSpace(text[k])) k++;
        if (k < n) {
          const next = text[k]!;
          const starts = UPPER.test(next) || OPENERS.has(next);
          if (starts && !(c === '.' && j === i + 1 && abbreviationBefore(text, i))) push(k);
        }
      }
      i = j - 1;
    } else if (c === '\u3002' || c === '\uff01' || c === '\uff1f') {
      let j = i + 1;
      while (j < n && (CLOSERS.has(text[j]!) || text[j] === '\u3002' || text[j] === '\uff01' || text[j] === '\uff1f')) j++;
      while (j < n && isSpace(text[j])) j++;
      push(j);
      i = j - 1;
    } else if (c === '\n') {
      let k = i + 1;
      while (k < n && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r')) k++;
      if (k < n && text[k] === '\n') {
        while (k < n && isSpace(text[k])) k++;
        push(k);
      }
    }
  }
  return out;
}

/**
 * Token index of each sentence start: the first token that ends after the sentence's first character (so a
 * GPT-2 token carrying the space before a sentence counts as its start). Always begins with 0; duplicates dropped.
 */
export function sentenceTokenStarts(offsets: readonly number[], ends: Int32Array): Int32Array {
  const out = [0];
  let t = 0;
  for (const c of offsets) {
    while (t < ends.length && ends[t]! <= c) t++;
    if (t >= ends.length) break;
    if (t > out[out.length - 1]!) out.push(t);
  }
  return Int32Array.from(out);
}

import type { AddedToken } from './types.js';

const WORD_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d]/u;
const WHITE = /\p{White_Space}/u;

function isWordAt(text: string, i: number, before: boolean): boolean {
  if (before) {
    if (i <= 0) return false;
    const lo = text.charCodeAt(i - 1);
    const from = lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? i - 2 : i - 1;
    return WORD_CHAR.test(text.slice(from, i));
  }
  if (i >= text.length) return false;
  const cp = text.codePointAt(i)!;
  return WORD_CHAR.test(String.fromCodePoint(cp));
}

/**
 * Finds added tokens (special tokens and user-added tokens) in text the way Hugging Face does: leftmost-longest
 * non-overlapping matches, then `single_word` (no word character on either side), `lstrip`/`rstrip` (absorb
 * neighbouring whitespace). Writes spans into `out` as triples [id, start, end], ascending.
 */
export class AddedMatcher {
  private readonly tokens: AddedToken[];

  constructor(tokens: readonly AddedToken[], contents?: readonly string[]) {
    this.tokens = tokens.map((t, i) => ({ ...t, content: contents?.[i] ?? t.content })).filter((t) => t.content.length > 0);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Matches in `text[start, end)`; returns triples [id, start, end]. */
  find(text: string, start: number, end: number): number[] {
    const cands: [number, number, number][] = [];
    for (let t = 0; t < this.tokens.length; t++) {
      const content = this.tokens[t]!.content;
      for (let p = text.indexOf(content, start); p >= 0 && p + content.length <= end; p = text.indexOf(content, p + 1)) {
        cands.push([p, content.length, t]);
      }
    }
    if (cands.length === 0) return [];
    cands.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const out: number[] = [];
    let consumed = start; // end of the last raw match (Aho-Corasick iteration position)
    let lastStop = start; // end of the last accepted span (lstrip never reaches before it)
    for (const [p, len, t] of cands) {
      if (p < consumed) continue;
      consumed = p + len;
      const tok = this.tokens[t]!;
      let s = p;
      let e = p + len;
      if (tok.singleWord) {
        const startOk = s === start || !isWordAt(text, s, true);
        const stopOk = e === end || !isWordAt(text, e, false);
        if (!startOk || !stopOk) continue;
      }
      if (tok.lstrip) {
        let k = s;
        while (k > start && WHITE.test(text[k - 1]!)) k--;
        s = Math.max(k, lastStop);
      }
      if (tok.rstrip) {
        while (e < end && WHITE.test(text[e]!)) e++;
      }
      out.push(tok.id, s, e);
      lastStop = e;
    }
    return out;
  }
}

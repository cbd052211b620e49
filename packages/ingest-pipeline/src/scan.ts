/**
 * Character classes for one-pass scans over a document's UTF-16 code units: what the filters and the dedup
 * normalization used to ask of regular expressions (`\s`, `\p{P}`, `\p{S}`, `\p{L}`) per word or per text, answered
 * from a 64 KiB table instead. Profiling the workers on Common Crawl WET showed the regex replaces, `split`s and
 * per-word `toLowerCase().replace()` as the largest cost after language identification, and most of the garbage.
 * The table is built from the same regular expressions, so every answer is the regex's answer by construction.
 */

/** `\s` (ECMAScript WhiteSpace and LineTerminator; per code unit, as in a regex without the `u` flag). */
export const WS = 1;
/** `[\p{P}\p{S}]` (per code point, as with the `u` flag). */
export const PS = 2;
/** `\p{L}`. */
export const LETTER = 4;
/** A surrogate code unit: classify the code point with `astralClass`. */
export const SURROGATE = 8;
/** A non-ASCII character whose lower case holds an ASCII character (KELVIN SIGN → `k`, `İ` → `i̇`). */
export const LOWERS_TO_ASCII = 16;

let table: Uint8Array | null = null;

/** The class bits of every BMP code unit (built once per thread, ~10 ms). */
export function charClasses(): Uint8Array {
  if (table) return table;
  const t = new Uint8Array(65536);
  const ws = /\s/;
  const ps = /[\p{P}\p{S}]/u;
  const letter = /\p{L}/u;
  // eslint-disable-next-line no-control-regex
  const ascii = /[\x00-\x7f]/;
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      t[c] = SURROGATE;
      continue;
    }
    const s = String.fromCharCode(c);
    let f = 0;
    if (ws.test(s)) f |= WS;
    if (ps.test(s)) f |= PS;
    if (letter.test(s)) f |= LETTER;
    if (c >= 128 && ascii.test(s.toLowerCase())) f |= LOWERS_TO_ASCII;
    t[c] = f;
  }
  table = t;
  return t;
}

const astral = new Map<number, number>();

/** Class bits (PS, LETTER) of a code point above U+FFFF (emoji are `\p{S}`), cached. */
export function astralClass(codePoint: number): number {
  let f = astral.get(codePoint);
  if (f === undefined) {
    const s = String.fromCodePoint(codePoint);
    f = (/[\p{P}\p{S}]/u.test(s) ? PS : 0) | (/\p{L}/u.test(s) ? LETTER : 0);
    astral.set(codePoint, f);
  }
  return f;
}

/** Length of the surrogate pair at `i` (2), or 1 for a lone surrogate. */
export function pairAt(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c <= 0xdbff && i + 1 < end) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Whitespace-delimited words of a text as spans (what `text.split(/\s+/)` gives, without the strings), in buffers
 * reused from one document to the next: read them before the next `scan`.
 */
export class WordSpans {
  count = 0;
  start: Int32Array;
  end: Int32Array;

  constructor(capacity = 4096) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
  }

  scan(text: string): this {
    const cls = charClasses();
    let n = 0;
    let i = 0;
    const len = text.length;
    while (i < len) {
      while (i < len && cls[text.charCodeAt(i)]! & WS) i++;
      if (i >= len) break;
      const s = i;
      while (i < len && !(cls[text.charCodeAt(i)]! & WS)) i++;
      if (n >= this.start.length) this.grow();
      this.start[n] = s;
      this.end[n] = i;
      n++;
    }
    this.count = n;
    return this;
  }

  /** The spans of the last `scan`, in arrays of their own (valid after the next `scan`). */
  copy(): WordSpans {
    const c = new WordSpans(0);
    c.count = this.count;
    c.start = this.start.slice(0, this.count);
    c.end = this.end.slice(0, this.count);
    return c;
  }

  private grow(): void {
    const start = new Int32Array(Math.max(1024, this.start.length * 2));
    const end = new Int32Array(Math.max(1024, this.end.length * 2));
    start.set(this.start);
    end.set(this.end);
    this.start = start;
    this.end = end;
  }
}

/** 32-bit FNV-1a of `text[start, end)`'s code units. */
export function fnv(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether `text[a, a + n)` equals `text[b, b + n)`. */
export function sameRange(text: string, a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
}

/**
 * Distinct substrings of one text, by span: open addressing on a 32-bit hash, equal hashes confirmed by comparing
 * the characters, so the answers are those of a `Set<string>` (or a `Map` to first-seen ids) without the strings.
 */
export class SpanSet {
  private hash = new Uint32Array(1024);
  private start = new Int32Array(1024);
  private length = new Int32Array(1024);
  /** id + 1 of the slot's span; 0: empty. */
  private id = new Int32Array(1024);
  private mask = 1023;
  size = 0;
  private text = '';

  /** Empties the set for spans of `text`, sized for up to `items` distinct spans. */
  reset(text: string, items: number): void {
    this.text = text;
    this.size = 0;
    let n = 1024;
    while (n < items * 2) n *= 2;
    if (n > this.id.length) {
      this.hash = new Uint32Array(n);
      this.start = new Int32Array(n);
      this.length = new Int32Array(n);
      this.id = new Int32Array(n);
    } else {
      // Only the part in use: a short document after a long one does not clear the long one's table.
      this.id.fill(0, 0, n);
    }
    this.mask = n - 1;
  }

  /** The id of `text[start, end)`: its first-seen order; `-1 - id` when it was already there. */
  add(start: number, end: number): number {
    const text = this.text;
    const n = end - start;
    const h = fnv(text, start, end);
    let i = (Math.imul(h, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const id = this.id[i]!;
      if (id === 0) {
        this.hash[i] = h;
        this.start[i] = start;
        this.length[i] = n;
        this.id[i] = ++this.size;
        return this.size - 1;
      }
      if (this.hash[i] === h && this.length[i] === n && sameRange(text, this.start[i]!, start, n)) return -id;
      i = (i + 1) & this.mask;
    }
  }
}

import { IntBuffer } from './util.js';

/**
 * BERT's normalizer (Hugging Face `BertNormalizer`) and pre-tokenizer (`BertPreTokenizer`), character by
 * character so every normalized code unit keeps the offset of the raw character it came from.
 */
export interface BertNormalizerOptions {
  /** Drop control characters, NUL and U+FFFD; turn whitespace into spaces. Default true. */
  cleanText: boolean;
  /** Put spaces around CJK ideographs so each is its own word. Default true. */
  handleChineseChars: boolean;
  /** Remove accents (NFD, then drop nonspacing marks). Default: follows `lowercase`. */
  stripAccents: boolean;
  lowercase: boolean;
}

const CONTROL = /\p{C}/u;
const WHITE = /\p{White_Space}/u;
const MN = /\p{Mn}/gu;
const PUNCT = /\p{P}/u;

export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** 1 for whitespace, 2 for BERT punctuation (ASCII punctuation or Unicode P*), 0 otherwise; BMP table. */
export const BERT_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCharCode(c);
    if (WHITE.test(s)) t[c] = 1;
    else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126) || PUNCT.test(s)) t[c] = 2;
  }
  return t;
})();

export function bertClassOf(cp: number): number {
  if (cp < 65536) return BERT_CLASS[cp]!;
  return PUNCT.test(String.fromCodePoint(cp)) ? 2 : 0;
}

/** A normalized string with, per code unit, the raw [start, end) it came from. */
export interface Normalized {
  text: string;
  start: Int32Array | null;
  end: Int32Array | null;
}

export class BertNormalizer {
  private readonly opts: BertNormalizerOptions;
  /** Per BMP code unit: the replacement (after clean/strip/lowercase), undefined until first seen. */
  private readonly table: (string | undefined)[] = new Array(65536);
  private readonly astral = new Map<number, string>();

  /** ASCII code → its normalized code when that is one unchanged-length char, else -1 (hot-path shortcut). */
  private readonly ascii = new Int16Array(128);

  constructor(options: BertNormalizerOptions) {
    this.opts = options;
    for (let c = 0; c < 128; c++) {
      const m = this.mapChar(c);
      this.ascii[c] = m.length === 1 ? m.charCodeAt(0) : -1;
    }
  }

  get options(): BertNormalizerOptions {
    return this.opts;
  }

  /** What one code point becomes (CJK padding not included). */
  mapChar(cp: number): string {
    if (cp < 65536) {
      let r = this.table[cp];
      if (r === undefined) {
        r = this.compute(cp);
        this.table[cp] = r;
      }
      return r;
    }
    let r = this.astral.get(cp);
    if (r === undefined) {
      r = this.compute(cp);
      this.astral.set(cp, r);
    }
    return r;
  }

  private compute(cp: number): string {
    const ch = String.fromCodePoint(cp);
    const o = this.opts;
    if (o.cleanText) {
      if (cp === 0 || cp === 0xfffd || (cp !== 9 && cp !== 10 && cp !== 13 && CONTROL.test(ch))) return '';
      if (WHITE.test(ch)) return ' ';
    }
    let s = ch;
    if (o.stripAccents) s = s.normalize('NFD').replace(MN, '');
    // Hugging Face lowercases char by char (no final-sigma context), as toLowerCase on a lone char does
    if (o.lowercase) s = Array.from(s, (c) => c.toLowerCase()).join('');
    return s;
  }

  /** Normalizes text[start, end); with `align`, records each output unit's raw span. */
  normalize(text: string, start: number, end: number, align: boolean): Normalized {
    const chinese = this.opts.handleChineseChars;
    let out = '';
    // typed buffers, not number[]: a 10 MB document needs two entries per code unit
    const starts = align ? new IntBuffer(Math.max(16, end - start)) : null;
    const ends = align ? new IntBuffer(Math.max(16, end - start)) : null;
    let runStart = start; // pending unchanged ASCII run (copied in one slice)
    const ascii = this.ascii;
    for (let i = start; i < end; ) {
      const c = text.charCodeAt(i);
      if (c < 128 && ascii[c] === c) {
        i++; // unchanged ASCII: stays in the run
        continue;
      }
      let cp = c;
      let w = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          w = 2;
        }
      }
      const mapped = chinese && isCjk(cp) ? ' ' + String.fromCodePoint(cp) + ' ' : this.mapChar(cp);
      if (mapped.length === w && (w === 2 ? mapped.codePointAt(0) === cp : mapped.charCodeAt(0) === c)) {
        i += w; // unchanged: stays in the run
        continue;
      }
      if (i > runStart) {
        out += text.slice(runStart, i);
        if (starts && ends) for (let k = runStart; k < i; k++) {
          starts.push(k);
          ends.push(k + 1);
        }
      }
      out += mapped;
      if (starts && ends) for (let k = 0; k < mapped.length; k++) {
        starts.push(i);
        ends.push(i + w);
      }
      i += w;
      runStart = i;
    }
    if (end > runStart) {
      out += runStart === start && end === text.length && start === 0 ? text : text.slice(runStart, end);
      if (starts && ends) for (let k = runStart; k < end; k++) {
        starts.push(k);
        ends.push(k + 1);
      }
    }
    return { text: out, start: starts ? starts.data.subarray(0, starts.length) : null, end: ends ? ends.data.subarray(0, ends.length) : null };
  }
}

/**
 * BERT pre-tokenization of text[start, end): split on whitespace (dropped) and around every punctuation
 * character (each its own piece). Spans go to `out` as [start, end) pairs.
 */
export function bertPreTokenize(text: string, start: number, end: number, out: { push(s: number, e: number): void }): void {
  let wordStart = -1;
  for (let i = start; i < end; ) {
    const c = text.charCodeAt(i);
    let cls: number;
    let w = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      cls = bertClassOf(0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00));
      w = 2;
    } else cls = BERT_CLASS[c]!;
    if (cls === 0) {
      if (wordStart < 0) wordStart = i;
    } else {
      if (wordStart >= 0) {
        out.push(wordStart, i);
        wordStart = -1;
      }
      if (cls === 2) out.push(i, i + w);
    }
    i += w;
  }
  if (wordStart >= 0) out.push(wordStart, end);
}

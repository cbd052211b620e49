import { createHash } from 'node:crypto';
import { astralClass, charClasses, pairAt, PS, SURROGATE, WS } from './scan.js';
import { fmix32, type MinHasher } from './minhash.js';

/** A document's dedup keys: the exact key (hi, lo) and the LSH band keys (none for a text with no words). */
export interface DedupKeys {
  hi: number;
  lo: number;
  bands: Uint32Array;
}

const NO_BANDS = new Uint32Array(0);

/**
 * `exactKey(normalizeForDedup(text))` and `hasher.bandKeys(normalizeForDedup(text))` in one pass, without building
 * the normalized string: after NFKC and `toLowerCase` (native, whole text), the words are the runs of characters
 * that are neither `\s` nor `[\p{P}\p{S}]`; each word's hash is taken as it is scanned, and the normalized text
 * (the words joined by single spaces) is written as UTF-8 straight into a reused buffer for sha256. The two regex
 * replaces, the `split` and the string per word cost ~4× this pass on Common Crawl text; the keys are the same
 * (tested against the string version on the real corpora).
 */
export class DedupKeyer {
  private bytes = new Uint8Array(1 << 16);
  private wordHashes = new Uint32Array(4096);

  constructor(private readonly hasher: MinHasher | null) {}

  keys(text: string): DedupKeys {
    // NFKC leaves ASCII unchanged; most web text is ASCII and the check is far cheaper than the normalization.
    // eslint-disable-next-line no-control-regex
    const s = (/[^\x00-\x7f]/.test(text) ? text.normalize('NFKC') : text).toLowerCase();
    const cls = charClasses();
    const len = s.length;
    if (this.bytes.length < 3 * len + 1) this.bytes = new Uint8Array(3 * len + 1024);
    const out = this.bytes;
    let wh = this.wordHashes;
    let n = 0; // bytes written
    let words = 0;
    let i = 0;
    while (i < len) {
      // Skip separators.
      for (;;) {
        if (i >= len) break;
        const c = s.charCodeAt(i);
        const f = cls[c]!;
        if (f & (WS | PS)) {
          i++;
          continue;
        }
        if (f & SURROGATE && pairAt(s, i, len) === 2 && astralClass(s.codePointAt(i)!) & PS) {
          i += 2;
          continue;
        }
        break;
      }
      if (i >= len) break;
      if (words > 0) out[n++] = 0x20;
      // One word: FNV-1a of its code units (then fmix32, as hashWord) and its UTF-8 bytes.
      let h = 0x811c9dc5;
      while (i < len) {
        const c = s.charCodeAt(i);
        const f = cls[c]!;
        if (f & (WS | PS)) break;
        if (c < 0x80) {
          out[n++] = c;
        } else if (c < 0x800) {
          out[n++] = 0xc0 | (c >> 6);
          out[n++] = 0x80 | (c & 0x3f);
        } else if (f & SURROGATE) {
          if (pairAt(s, i, len) === 2) {
            const cp = s.codePointAt(i)!;
            if (astralClass(cp) & PS) break;
            const d = s.charCodeAt(i + 1);
            h = Math.imul(h ^ c, 0x01000193);
            h = Math.imul(h ^ d, 0x01000193);
            out[n++] = 0xf0 | (cp >> 18);
            out[n++] = 0x80 | ((cp >> 12) & 0x3f);
            out[n++] = 0x80 | ((cp >> 6) & 0x3f);
            out[n++] = 0x80 | (cp & 0x3f);
            i += 2;
            continue;
          }
          // A lone surrogate: Node encodes it as U+FFFD.
          out[n++] = 0xef;
          out[n++] = 0xbf;
          out[n++] = 0xbd;
        } else {
          out[n++] = 0xe0 | (c >> 12);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
        }
        h = Math.imul(h ^ c, 0x01000193);
        i++;
      }
      if (words === wh.length) {
        const bigger = new Uint32Array(wh.length * 2);
        bigger.set(wh);
        this.wordHashes = wh = bigger;
      }
      wh[words++] = fmix32(h >>> 0);
    }
    const d = createHash('sha256').update(out.subarray(0, n)).digest();
    const hasher = this.hasher;
    const bands = hasher && words > 0 ? hasher.bandKeysOf(hasher.signatureOf(hasher.shinglesOf(wh, words))) : NO_BANDS;
    return { hi: d.readUInt32BE(0), lo: d.readUInt32BE(4), bands };
  }
}

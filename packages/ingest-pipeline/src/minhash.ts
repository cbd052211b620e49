import { createHash } from 'node:crypto';
import { Rng } from '@pretext/core';

export interface DedupOptions {
  /** Drop documents whose normalized text equals an earlier kept document's. Default true. */
  exact?: boolean;
  /** Drop near-duplicates found by MinHash-LSH. Default true. */
  near?: boolean;
  /** Words per shingle. Default 5 (FineWeb). */
  shingleSize?: number;
  /** LSH bands. Default 14 (FineWeb). */
  bands?: number;
  /** MinHash values per band. Default 8 (FineWeb): pairs above a Jaccard similarity of about (1/14)^(1/8) ≈ 0.72 collide. */
  rows?: number;
  /** Seed of the hash functions. Default 1. */
  seed?: number;
}

export const DEDUP_DEFAULTS: Required<DedupOptions> = { exact: true, near: true, shingleSize: 5, bands: 14, rows: 8, seed: 1 };

/**
 * Text as compared for duplicates: lower case, punctuation and symbols removed, digits kept, whitespace collapsed
 * (datatrove's simplify_text without its digit folding), Unicode NFKC.
 */
export function normalizeForDedup(text: string): string {
  // NFKC leaves ASCII unchanged; most web text is ASCII and the check is far cheaper than the normalization.
  // eslint-disable-next-line no-control-regex
  return (/[^\x00-\x7f]/.test(text) ? text.normalize('NFKC') : text)
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** 64 bits of sha256 of the normalized text, as two uint32 (hi, lo). */
export function exactKey(normalized: string): [number, number] {
  const d = createHash('sha256').update(normalized).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

// murmur3's finalizer: a bijection on uint32 that spreads every input bit over the output.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of a string's UTF-16 code units (FNV-1a, then fmix32). */
function hashWord(w: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/**
 * MinHash signatures and LSH band keys. Hand-written rather than a library: shingles are hashed from word hashes
 * (no string per shingle, each shingle hash finished with fmix32), and the bands × rows hash functions are
 * `(a_i · x + b_i) mod 2^32` with odd a_i: permutations of the already well-mixed shingle hashes, two operations each
 * (fmix32 per function cost twice as much; the estimates stay within the test's 4 standard errors). a_i and b_i are
 * drawn from the seeded `Rng`, so a signature depends on nothing but the text and the options.
 */
export class MinHasher {
  readonly shingleSize: number;
  readonly bands: number;
  readonly rows: number;
  private readonly seeds: Uint32Array;
  private readonly mul: Uint32Array;

  constructor(options: DedupOptions = {}) {
    const o = { ...DEDUP_DEFAULTS, ...options };
    this.shingleSize = o.shingleSize;
    this.bands = o.bands;
    this.rows = o.rows;
    const rng = new Rng(o.seed);
    this.seeds = new Uint32Array(o.bands * o.rows);
    this.mul = new Uint32Array(o.bands * o.rows);
    for (let i = 0; i < this.seeds.length; i++) {
      this.mul[i] = rng.nextUint32() | 1;
      this.seeds[i] = rng.nextUint32();
    }
  }

  /** Shingle hashes of a normalized text: one per window of `shingleSize` words (one for shorter texts; none if empty). */
  shingles(normalized: string): Uint32Array {
    const ws = normalized === '' ? [] : normalized.split(' ');
    if (ws.length === 0) return new Uint32Array(0);
    const wh = new Uint32Array(ws.length);
    for (let i = 0; i < ws.length; i++) wh[i] = hashWord(ws[i]!);
    const n = Math.min(this.shingleSize, ws.length);
    const count = ws.length - n + 1;
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      let h = 0x9747b28c ^ n;
      for (let k = 0; k < n; k++) h = fmix32(Math.imul(h, 31) ^ wh[i + k]!);
      out[i] = h;
    }
    return out;
  }

  /** The MinHash signature (bands × rows values); all 0xffffffff for an empty text. */
  signature(normalized: string): Uint32Array {
    const sh = this.shingles(normalized);
    const sig = new Uint32Array(this.seeds.length).fill(0xffffffff);
    for (let j = 0; j < this.seeds.length; j++) {
      const a = this.mul[j]!;
      const b = this.seeds[j]!;
      let min = 0xffffffff;
      for (let i = 0; i < sh.length; i++) {
        const v = (Math.imul(a, sh[i]!) + b) >>> 0;
        if (v < min) min = v;
      }
      sig[j] = min;
    }
    return sig;
  }

  /**
   * One 64-bit key per band (as hi, lo pairs), the band index mixed in so equal rows in different bands differ.
   * Empty texts get no keys (length 0): they are never near-duplicates.
   */
  bandKeys(normalized: string): Uint32Array {
    if (normalized === '') return new Uint32Array(0);
    const sig = this.signature(normalized);
    const keys = new Uint32Array(this.bands * 2);
    for (let b = 0; b < this.bands; b++) {
      let hi = fmix32(0x3c6ef372 ^ b);
      let lo = fmix32(0xa54ff53a ^ (b * 0x9e3779b9));
      for (let r = 0; r < this.rows; r++) {
        const v = sig[b * this.rows + r]!;
        hi = fmix32(Math.imul(hi, 0x01000193) ^ v);
        lo = fmix32((lo + Math.imul(v, 0x27d4eb2d)) >>> 0);
      }
      keys[2 * b] = hi;
      keys[2 * b + 1] = lo;
    }
    return keys;
  }
}

/** Jaccard similarity of two texts' shingle sets (for tests and diagnostics). */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  const sa = new Set(a);
  const sb = new Set(b);
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  const union = sa.size + sb.size - inter;
  return union === 0 ? 1 : inter / union;
}

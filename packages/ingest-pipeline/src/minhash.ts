import { createHash } from 'node:crypto';
import { Rng } from '@pretext/core';
import { minHashKernel, type MinHashKernel } from './minhash-kernel.js';

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

/** murmur3's finalizer: a bijection on uint32 that spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of a string's UTF-16 code units (FNV-1a, then fmix32). */
export function hashWord(w: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/**
 * MinHash signatures and LSH band keys. Hand-written rather than a library: shingles are hashed from word hashes
 * (no string per shingle, each shingle hash finished with fmix32), and the bands × rows hash functions are
 * `(a_i · x + b_i) mod 2^32` with odd a_i: permutations of the already well-mixed shingle hashes, two operations each
 * (fmix32 per function cost twice as much; the estimates stay within the test's 4 standard errors). a_i and b_i are
 * drawn from the seeded `Rng`, so a signature depends on nothing but the text and the options. The signature runs in
 * a WebAssembly SIMD kernel (minhash-kernel.wat; `bench/minhash.ts`: 9× the JavaScript loop, which stays as the
 * fallback and the reference the kernel is tested against).
 */
export class MinHasher {
  readonly shingleSize: number;
  readonly bands: number;
  readonly rows: number;
  private readonly seeds: Uint32Array;
  private readonly mul: Uint32Array;
  private readonly kernel: MinHashKernel | null;

  /** `simd: false` keeps to the JavaScript loop (for tests comparing the two). */
  constructor(options: DedupOptions & { simd?: boolean } = {}) {
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
    this.kernel = options.simd === false ? null : minHashKernel(this.mul, this.seeds);
  }

  /** Shingle hashes of a normalized text: one per window of `shingleSize` words (one for shorter texts; none if empty). */
  shingles(normalized: string): Uint32Array {
    const ws = normalized === '' ? [] : normalized.split(' ');
    const wh = new Uint32Array(ws.length);
    for (let i = 0; i < ws.length; i++) wh[i] = hashWord(ws[i]!);
    return this.shinglesOf(wh, ws.length);
  }

  /** Shingle hashes from the hashes of the words (`hashWord`), the first `count` of `wordHashes`. */
  shinglesOf(wordHashes: Uint32Array, count: number): Uint32Array {
    if (count === 0) return new Uint32Array(0);
    const n = Math.min(this.shingleSize, count);
    const shingles = count - n + 1;
    const out = new Uint32Array(shingles);
    for (let i = 0; i < shingles; i++) {
      let h = 0x9747b28c ^ n;
      for (let k = 0; k < n; k++) h = fmix32(Math.imul(h, 31) ^ wordHashes[i + k]!);
      out[i] = h;
    }
    return out;
  }

  /** The MinHash signature (bands × rows values); all 0xffffffff for an empty text. */
  signature(normalized: string): Uint32Array {
    return this.signatureOf(this.shingles(normalized));
  }

  /** The signature of shingle hashes. */
  signatureOf(sh: Uint32Array): Uint32Array {
    if (this.kernel && sh.length > 0) return this.kernel.signature(sh);
    const fns = this.seeds.length;
    const sig = new Uint32Array(fns).fill(0xffffffff);
    const mul = this.mul;
    const add = this.seeds;
    const m = sh.length;
    let j = 0;
    // Four functions per pass over the shingles: each shingle is loaded once for four, and the loop overhead is shared
    // (2.5× faster than one function per pass in V8; the same values).
    for (; j + 4 <= fns; j += 4) {
      const a0 = mul[j]!, a1 = mul[j + 1]!, a2 = mul[j + 2]!, a3 = mul[j + 3]!;
      const b0 = add[j]!, b1 = add[j + 1]!, b2 = add[j + 2]!, b3 = add[j + 3]!;
      let m0 = 0xffffffff, m1 = 0xffffffff, m2 = 0xffffffff, m3 = 0xffffffff;
      for (let i = 0; i < m; i++) {
        const x = sh[i]!;
        const v0 = (Math.imul(a0, x) + b0) >>> 0;
        const v1 = (Math.imul(a1, x) + b1) >>> 0;
        const v2 = (Math.imul(a2, x) + b2) >>> 0;
        const v3 = (Math.imul(a3, x) + b3) >>> 0;
        if (v0 < m0) m0 = v0;
        if (v1 < m1) m1 = v1;
        if (v2 < m2) m2 = v2;
        if (v3 < m3) m3 = v3;
      }
      sig[j] = m0;
      sig[j + 1] = m1;
      sig[j + 2] = m2;
      sig[j + 3] = m3;
    }
    for (; j < fns; j++) {
      const a = mul[j]!;
      const b = add[j]!;
      let min = 0xffffffff;
      for (let i = 0; i < m; i++) {
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
    return this.bandKeysOf(this.signature(normalized));
  }

  /** The band keys of a signature. */
  bandKeysOf(sig: Uint32Array): Uint32Array {
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

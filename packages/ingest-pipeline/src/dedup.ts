/**
 * A set of 64-bit keys (hi, lo uint32 pairs) in two typed arrays with open addressing: 8 bytes per slot, kept at
 * most half full, so about 16–32 bytes per key. A `Set<string>` of hex keys costs ~100 bytes per key, which is
 * what bounds how many documents one run can deduplicate in memory.
 */
export class U64Set {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  // (0, 0) marks an empty slot, so that key is tracked by this flag instead.
  private zero = false;
  size = 0;

  constructor(capacity = 1024) {
    let n = 1024;
    while (n < capacity * 2) n *= 2;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.mask = n - 1;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  private slot(hi: number, lo: number): number {
    let i = (Math.imul(hi ^ (lo >>> 7), 0x9e3779b1) ^ lo) & this.mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) {
      if (this.hi[i] === hi && this.lo[i] === lo) return i;
      i = (i + 1) & this.mask;
    }
    return i;
  }

  has(hi: number, lo: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    if (hi === 0 && lo === 0) return this.zero;
    const i = this.slot(hi, lo);
    return this.hi[i] === hi && this.lo[i] === lo;
  }

  /** Adds a key; false if it was there. */
  add(hi: number, lo: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    if (hi === 0 && lo === 0) {
      if (this.zero) return false;
      this.zero = true;
      this.size++;
      return true;
    }
    let i = this.slot(hi, lo);
    if (this.hi[i] === hi && this.lo[i] === lo) return false;
    if ((this.size + 1) * 2 > this.hi.length) {
      this.grow();
      i = this.slot(hi, lo);
    }
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.size++;
    return true;
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    this.mask = this.hi.length - 1;
    for (let k = 0; k < hi.length; k++) {
      if (hi[k] === 0 && lo[k] === 0) continue;
      const i = this.slot(hi[k]!, lo[k]!);
      this.hi[i] = hi[k]!;
      this.lo[i] = lo[k]!;
    }
  }
}

export type DedupVerdict = 'duplicate-exact' | 'duplicate-near' | null;

/**
 * Exact and near-duplicate detection over a whole run, in document order. A document is an exact duplicate when
 * an earlier kept document has the same normalized-text key, a near duplicate when one of its LSH band keys equals
 * a band key of an earlier kept document (FineWeb/datatrove style: band collisions are duplicates, without a
 * Jaccard check). Only kept documents are remembered. Every kept document's keys are also appended to `log`, so a
 * resumed run rebuilds exactly this state from the log instead of from the documents.
 */
export class Deduplicator {
  readonly exactKeys = new U64Set();
  readonly bandKeys = new U64Set();
  /** uint32 words per kept document in the log: 2 for the exact key, 2 per band. */
  readonly stride: number;
  private pending: Uint32Array;
  private pendingLength = 0;

  constructor(readonly exact: boolean, readonly near: boolean, readonly bands: number) {
    this.stride = 2 + 2 * bands;
    this.pending = new Uint32Array(this.stride * 1024);
  }

  /** Decides on one document and, when it is kept, remembers it. `bands` has 2 × bands words, or none (empty text). */
  check(exactHi: number, exactLo: number, bands: Uint32Array): DedupVerdict {
    if (this.exact && this.exactKeys.has(exactHi, exactLo)) return 'duplicate-exact';
    if (this.near) {
      for (let i = 0; i < bands.length; i += 2) if (this.bandKeys.has(bands[i]!, bands[i + 1]!)) return 'duplicate-near';
    }
    this.remember(exactHi, exactLo, bands);
    this.log(exactHi, exactLo, bands);
    return null;
  }

  private remember(exactHi: number, exactLo: number, bands: Uint32Array): void {
    if (this.exact) this.exactKeys.add(exactHi, exactLo);
    if (this.near) for (let i = 0; i < bands.length; i += 2) this.bandKeys.add(bands[i]!, bands[i + 1]!);
  }

  private log(exactHi: number, exactLo: number, bands: Uint32Array): void {
    if (this.pendingLength + this.stride > this.pending.length) {
      const next = new Uint32Array(this.pending.length * 2);
      next.set(this.pending.subarray(0, this.pendingLength));
      this.pending = next;
    }
    const at = this.pendingLength;
    this.pending[at] = exactHi;
    this.pending[at + 1] = exactLo;
    // Empty texts have no band keys: their slots stay 0 and are skipped on replay.
    this.pending.fill(0, at + 2, at + this.stride);
    this.pending.set(bands.subarray(0, this.stride - 2), at + 2);
    this.pendingLength += this.stride;
  }

  /** The log words written since the last call (to append to the log file). */
  takeLog(): Uint32Array {
    const out = this.pending.slice(0, this.pendingLength);
    this.pendingLength = 0;
    return out;
  }

  /** Rebuilds the state from log words (whole records). */
  replay(words: Uint32Array): void {
    for (let at = 0; at + this.stride <= words.length; at += this.stride) {
      const bands = words.subarray(at + 2, at + this.stride);
      const nonEmpty = bands.some((v) => v !== 0);
      this.remember(words[at]!, words[at + 1]!, nonEmpty ? bands : new Uint32Array(0));
    }
  }

  /** Bytes held by the key tables. */
  get bytes(): number {
    return this.exactKeys.bytes + this.bandKeys.bytes + this.pending.byteLength;
  }
}

/** The arrays of a `MergeTable` (power-of-two length; `left` is -1 in empty slots). */
export interface MergeArrays {
  left: Int32Array;
  right: Int32Array;
  rank: Int32Array;
  merged: Int32Array;
}

/**
 * Merge rules as an open-addressing hash table over Int32Arrays: (left id, right id) → (rank, merged id).
 * Hand-written because a `Map` keyed by `a * 2^21 + b` (a heap number above 2^31) made the merge loop of
 * cache-missing words ~3× slower in V8.
 */
export class MergeTable {
  private readonly mask: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  readonly rank: Int32Array;
  readonly merged: Int32Array;

  constructor(capacity: number, arrays?: MergeArrays) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    if (arrays) n = arrays.left.length;
    this.mask = n - 1;
    this.left = arrays?.left ?? new Int32Array(n).fill(-1);
    this.right = arrays?.right ?? new Int32Array(n);
    this.rank = arrays?.rank ?? new Int32Array(n);
    this.merged = arrays?.merged ?? new Int32Array(n);
  }

  /** A table over existing arrays (not copied). */
  static fromArrays(arrays: MergeArrays): MergeTable {
    if ((arrays.left.length & (arrays.left.length - 1)) !== 0) throw new RangeError(`merge table length ${arrays.left.length} is not a power of two`);
    return new MergeTable(0, arrays);
  }

  /** The table's arrays (not copied). */
  arrays(): MergeArrays {
    return { left: this.left, right: this.right, rank: this.rank, merged: this.merged };
  }

  private static hash(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 16;
    return h;
  }

  /** Sets (a, b) → (rank, merged), replacing an earlier rule for the same pair. */
  set(a: number, b: number, rank: number, merged: number): void {
    let i = MergeTable.hash(a, b) & this.mask;
    while (this.left[i] !== -1 && !(this.left[i] === a && this.right[i] === b)) i = (i + 1) & this.mask;
    this.left[i] = a;
    this.right[i] = b;
    this.rank[i] = rank;
    this.merged[i] = merged;
  }

  /** The slot of (a, b), or -1 when no rule merges them. */
  find(a: number, b: number): number {
    let i = MergeTable.hash(a, b) & this.mask;
    for (;;) {
      const l = this.left[i]!;
      if (l === -1) return -1;
      if (l === a && this.right[i] === b) return i;
      i = (i + 1) & this.mask;
    }
  }
}


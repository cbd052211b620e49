/**
 * A cache from pre-token text to token ids that never allocates a string: keys are hashed and compared straight
 * from the input (`text[start, end)`), entries live in typed-array pools. Written by hand because
 * `text.slice` + `Map.get` cost ~70% of GPT-2 encoding time in V8 (bench/encode.ts: ~12 → ~35 MB/s).
 */
export class WordCache {
  private mask: number;
  private hashes: Int32Array;
  private charOff: Int32Array;
  private charLen: Int32Array; // 0 = empty slot
  private idOff: Int32Array;
  private idLen: Int32Array;
  private chars: Uint16Array = new Uint16Array(1 << 16);
  private charsUsed = 0;
  private ids: Int32Array = new Int32Array(1 << 15);
  private idsUsed = 0;
  private count = 0;
  /** Result of the last `find`: the slot (hit) or the slot to insert at (miss). */
  slot = 0;
  /** Hash computed by the last `find`. */
  hash = 0;

  constructor(slotsLog2 = 18) {
    const n = 1 << slotsLog2;
    this.mask = n - 1;
    this.hashes = new Int32Array(n);
    this.charOff = new Int32Array(n);
    this.charLen = new Int32Array(n);
    this.idOff = new Int32Array(n);
    this.idLen = new Int32Array(n);
  }

  /** True when text[start, end) is cached; `slot` then indexes it. */
  find(text: string, start: number, end: number): boolean {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h ^= h >>> 15;
    this.hash = h;
    const len = end - start;
    const mask = this.mask;
    let i = (h ^ (h >>> 13)) & mask;
    for (;;) {
      const l = this.charLen[i]!;
      if (l === 0) {
        this.slot = i;
        return false;
      }
      if (l === len && this.hashes[i] === h) {
        const off = this.charOff[i]!;
        const chars = this.chars;
        let k = 0;
        while (k < len && chars[off + k] === text.charCodeAt(start + k)) k++;
        if (k === len) {
          this.slot = i;
          return true;
        }
      }
      i = (i + 1) & mask;
    }
  }

  /** Appends the cached ids of the last hit to `out` at `at`; returns the new length. `out` must have room. */
  copyTo(out: Int32Array, at: number): number {
    const off = this.idOff[this.slot]!;
    const n = this.idLen[this.slot]!;
    if (n === 1) out[at] = this.ids[off]!;
    else for (let k = 0; k < n; k++) out[at + k] = this.ids[off + k]!;
    return at + n;
  }

  /** Length of the last hit. */
  hitLength(): number {
    return this.idLen[this.slot]!;
  }

  /** Stores ids for text[start, end) after a missed `find` (uses its slot and hash). Clears when half full. */
  insert(text: string, start: number, end: number, value: Int32Array): void {
    if (this.count >= (this.mask + 1) >> 1) {
      this.clear();
      this.find(text, start, end);
    }
    const len = end - start;
    if (this.charsUsed + len > this.chars.length) this.chars = grow16(this.chars, this.charsUsed + len);
    if (this.idsUsed + value.length > this.ids.length) this.ids = grow32(this.ids, this.idsUsed + value.length);
    for (let k = 0; k < len; k++) this.chars[this.charsUsed + k] = text.charCodeAt(start + k);
    this.ids.set(value, this.idsUsed);
    const s = this.slot;
    this.hashes[s] = this.hash;
    this.charOff[s] = this.charsUsed;
    this.charLen[s] = len;
    this.idOff[s] = this.idsUsed;
    this.idLen[s] = value.length;
    this.charsUsed += len;
    this.idsUsed += value.length;
    this.count++;
  }

  clear(): void {
    this.charLen.fill(0);
    this.charsUsed = 0;
    this.idsUsed = 0;
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}

function grow16(a: Uint16Array, need: number): Uint16Array {
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new Uint16Array(n);
  b.set(a);
  return b;
}

function grow32(a: Int32Array, need: number): Int32Array {
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** One dropped document as `rejects.jsonl` shows it. */
export interface Reject {
  reason: string;
  id: string;
  source: string;
  /** Position in the run: work unit ordinal and document index in the unit (for ordering). */
  unit: number;
  item: number;
  file: string;
  /** url (Common Crawl) or title (Wikipedia, books), when known. */
  where: string | null;
  /** The score that failed, e.g. `n_words=12`. */
  detail: string;
  textLength: number;
  /** The start of the text (at most 1000 characters). */
  text: string;
  /** Sampling rank: uint32 from the id. */
  rank: number;
}

export const REJECT_TEXT_CHARS = 1000;

function compare(a: Reject, b: Reject): number {
  return a.rank - b.rank || a.unit - b.unit || a.item - b.item || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0);
}

/**
 * A bottom-k sample of rejected documents: the k with the smallest rank (a hash of the id). It does not depend on
 * the order documents arrive in, so workers sample their units and the run merges the samples, and the result is
 * the same whatever the number of workers, and after a resume.
 */
export class RejectSample {
  private items: Reject[] = [];
  constructor(readonly size: number) {}

  offer(r: Reject): void {
    if (this.size <= 0) return;
    const items = this.items;
    if (items.length >= this.size && compare(r, items[items.length - 1]!) >= 0) return;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(items[mid]!, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, r);
    if (items.length > this.size) items.pop();
  }

  /** Would an entry of this rank be kept? (Saves building entries that would be discarded.) */
  wants(rank: number): boolean {
    return this.size > 0 && (this.items.length < this.size || rank <= this.items[this.items.length - 1]!.rank);
  }

  entries(): Reject[] {
    return [...this.items];
  }

  /** In run order, for the file. */
  inRunOrder(): Reject[] {
    return [...this.items].sort((a, b) => a.unit - b.unit || a.item - b.item || (a.reason < b.reason ? -1 : 1));
  }

  static from(size: number, items: readonly Reject[]): RejectSample {
    const s = new RejectSample(size);
    for (const r of items) s.offer(r);
    return s;
  }
}

export function rankOf(id: string): number {
  return parseInt(id.slice(0, 8), 16) >>> 0;
}

import { describe, expect, it } from 'vitest';
import { books } from '../test/corpora.js';
import { WordCache } from './cache.js';
import { Spans, splitGpt2 } from './pretokenize.js';

describe('WordCache', () => {
  it('returns what was stored for every pre-token of a book, across many clears of a tiny table', () => {
    const text = books()[0]!.text;
    const spans = new Spans();
    splitGpt2(text, 0, text.length, spans);
    const cache = new WordCache(6); // 64 slots: cleared every 32 entries
    const value = (w: string) => Int32Array.from(w, (c) => c.charCodeAt(0) * 3 + w.length);
    const out = new Int32Array(1024);
    let hits = 0;
    for (let k = 0; k < spans.length; k += 2) {
      const s = spans.data[k]!;
      const e = spans.data[k + 1]!;
      const w = text.slice(s, e);
      if (cache.find(text, s, e)) {
        hits++;
        const n = cache.copyTo(out, 0);
        expect(Array.from(out.subarray(0, n))).toEqual(Array.from(value(w)));
      } else cache.insert(text, s, e, value(w));
      expect(cache.size).toBeLessThanOrEqual(32);
    }
    expect(hits).toBeGreaterThan(1000); // frequent words are found again between clears
  });
});

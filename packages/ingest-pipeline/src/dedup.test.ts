import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@pretext/core';
import { parseTextBook } from '@pretext/ingest-books';
import { corpus } from './corpora.test-helper.js';
import { Deduplicator, U64Set } from './dedup.js';
import { exactKey, jaccard, MinHasher, normalizeForDedup } from './minhash.js';

/** Real prose: the Gutenberg books, cut into ~150-word passages. */
function passages(): string[] {
  const out: string[] = [];
  for (const f of ['books/gutenberg/markovify/sherlock.txt', 'books/gutenberg/sentencepiece/botchan.txt', 'books/gutenberg/ebookmaker/69030-0.txt']) {
    const text = parseTextBook(readFileSync(corpus(f)), f, f).text;
    const words = text.split(/\s+/).filter(Boolean);
    for (let i = 0; i + 150 <= words.length; i += 150) out.push(words.slice(i, i + 150).join(' '));
  }
  return out;
}

/** Replaces round(fraction × words) words (at least one) with different words from elsewhere in the text. */
function mutate(text: string, fraction: number, rng: Rng, pool: string[]): string {
  const words = text.split(' ');
  const n = Math.max(1, Math.round(fraction * words.length));
  for (const i of rng.shuffle(words.map((_, k) => k)).slice(0, n)) {
    let w = words[i]!;
    while (w.toLowerCase() === words[i]!.toLowerCase()) w = pool[rng.int(pool.length)]!;
    words[i] = w;
  }
  return words.join(' ');
}

describe('MinHash', () => {
  const all = passages();
  const vocabulary = all.join(' ').split(' ');

  it('cuts real books into enough passages', () => {
    expect(all.length).toBeGreaterThan(1000);
  });

  it('signature agreement estimates Jaccard similarity within 4 standard errors', () => {
    const hasher = new MinHasher({ bands: 14, rows: 8, shingleSize: 5, seed: 7 });
    const k = 14 * 8;
    const rng = new Rng(3);
    let checked = 0;
    let bias = 0;
    let variance = 0;
    for (const fraction of [0.01, 0.03, 0.08, 0.15]) {
      for (let t = 0; t < 25; t++) {
        const a = normalizeForDedup(all[rng.int(all.length)]!);
        const b = normalizeForDedup(mutate(a, fraction, rng, vocabulary));
        const j = jaccard(hasher.shingles(a), hasher.shingles(b));
        const sa = hasher.signature(a);
        const sb = hasher.signature(b);
        let agree = 0;
        for (let i = 0; i < k; i++) if (sa[i] === sb[i]) agree++;
        const se = Math.sqrt(Math.max(j * (1 - j), 0.01) / k);
        expect(Math.abs(agree / k - j), `J=${j.toFixed(3)} estimate=${(agree / k).toFixed(3)}`).toBeLessThan(4 * se);
        bias += agree / k - j;
        variance += (j * (1 - j)) / k;
        checked++;
      }
    }
    expect(checked).toBe(100);
    // No systematic error: the mean of the 100 errors is within 4 standard errors of the mean.
    expect(Math.abs(bias / checked)).toBeLessThan((4 * Math.sqrt(variance)) / checked);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const text = normalizeForDedup(all[10]!);
    expect(new MinHasher({ seed: 1 }).bandKeys(text)).toEqual(new MinHasher({ seed: 1 }).bandKeys(text));
    expect(new MinHasher({ seed: 1 }).bandKeys(text)).not.toEqual(new MinHasher({ seed: 2 }).bandKeys(text));
    expect(new MinHasher({ bands: 5, rows: 3 }).bandKeys(text).length).toBe(10);
    expect(new MinHasher().bandKeys('')).toEqual(new Uint32Array(0));
  });
});

describe('Deduplicator', () => {
  const all = passages();
  const vocabulary = all.join(' ').split(' ');

  function run(docs: string[], exact = true, near = true) {
    const hasher = new MinHasher();
    const d = new Deduplicator(exact, near, hasher.bands);
    return docs.map((t) => {
      const n = normalizeForDedup(t);
      const [hi, lo] = exactKey(n);
      return d.check(hi, lo, near ? hasher.bandKeys(n) : new Uint32Array(0));
    });
  }

  it('keeps every distinct passage of three real books', () => {
    // Real books repeat a few short passages (chapter headings are too short at 150 words to matter): expect none.
    const verdicts = run(all);
    expect(verdicts.filter((v) => v !== null)).toEqual([]);
  });

  it('finds planted exact duplicates (case, punctuation and spacing differ) and planted near duplicates', () => {
    const rng = new Rng(11);
    const base = all.slice(0, 400);
    const docs = [...base];
    const planted: Array<{ at: number; kind: 'duplicate-exact' | 'duplicate-near' }> = [];
    for (let t = 0; t < 40; t++) {
      const src = base[rng.int(base.length)]!;
      const exactCopy = rng.bernoulli(0.5);
      const text = exactCopy ? src.toUpperCase().replace(/ /g, '  \n').replace(/\./g, ' !') : mutate(src, 0.005, rng, vocabulary);
      const at = base.length + t;
      docs.push(text);
      planted.push({ at, kind: exactCopy ? 'duplicate-exact' : 'duplicate-near' });
    }
    const verdicts = run(docs);
    expect(verdicts.slice(0, base.length).every((v) => v === null)).toBe(true);
    // One word in 150 replaced: 5-shingle Jaccard ≥ 0.93, collision probability 1 - (1 - 0.93^8)^14 > 0.9999 per pair.
    for (const p of planted) expect(verdicts[p.at], `document ${p.at}`).toBe(p.kind);
    // With near off, the near copies are kept and the exact copies still found.
    const exactOnly = run(docs, true, false);
    for (const p of planted) expect(exactOnly[p.at]).toBe(p.kind === 'duplicate-exact' ? 'duplicate-exact' : null);
  });

  it('rebuilds the same state from its log', () => {
    const hasher = new MinHasher();
    const a = new Deduplicator(true, true, hasher.bands);
    const keys = all.slice(0, 300).map((t) => {
      const n = normalizeForDedup(t);
      return { exact: exactKey(n), bands: hasher.bandKeys(n) };
    });
    for (const k of keys.slice(0, 200)) a.check(k.exact[0], k.exact[1], k.bands);
    const b = new Deduplicator(true, true, hasher.bands);
    b.replay(a.takeLog());
    for (const k of keys) expect(b.check(k.exact[0], k.exact[1], k.bands)).toBe(a.check(k.exact[0], k.exact[1], k.bands));
  });
});

describe('U64Set', () => {
  it('agrees with a Set of strings over 100k random keys, including (0, 0)', () => {
    const rng = new Rng(5);
    const s = new U64Set(16);
    const ref = new Set<string>();
    let disagreements = 0;
    for (let i = 0; i < 100_000; i++) {
      const hi = i === 7 ? 0 : rng.int(64);
      const lo = i === 7 ? 0 : rng.nextUint32() & 0xfff;
      if (s.add(hi, lo) !== !ref.has(`${hi}:${lo}`)) disagreements++;
      ref.add(`${hi}:${lo}`);
    }
    expect(ref.size).toBeGreaterThan(50_000); // many repeats as well as new keys
    expect(s.size).toBe(ref.size);
    expect(s.has(0, 0)).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      const hi = rng.int(80);
      const lo = rng.nextUint32() & 0xfff;
      if (s.has(hi, lo) !== ref.has(`${hi}:${lo}`)) disagreements++;
    }
    expect(disagreements).toBe(0);
    expect(s.bytes).toBeLessThanOrEqual(8 * 4 * ref.size);
  });
});

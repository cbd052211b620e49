import { describe, expect, it } from 'vitest';
import { Rng, seedFromString } from './rng.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(7);
    for (let i = 0; i < 1000; i++) a.nextUint32();
    const b = new Rng(a.state());
    expect(Array.from({ length: 50 }, () => b.float())).toEqual(Array.from({ length: 50 }, () => a.float()));
  });

  it('int(n) is uniform within 4 standard errors', () => {
    const rng = new Rng(1);
    const n = 10;
    const draws = 100_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) counts[rng.int(n)]!++;
    const p = 1 / n;
    const se = Math.sqrt((p * (1 - p)) / draws);
    for (const c of counts) expect(Math.abs(c / draws - p)).toBeLessThan(4 * se);
  });

  it('float() has mean 1/2 and normal() has mean 0 and variance 1 within tolerance', () => {
    const rng = new Rng(3);
    const n = 100_000;
    let sum = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      sum += rng.float();
      const z = rng.normal();
      s1 += z;
      s2 += z * z;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s1 / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('shuffle is a permutation and forks are independent of later parent draws', () => {
    const rng = new Rng(5);
    const xs = rng.shuffle(Array.from({ length: 100 }, (_, i) => i));
    expect([...xs].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(xs).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    const f1 = new Rng(9).fork();
    const f2 = new Rng(9).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
  });

  it('rejects a bad range', () => {
    expect(() => new Rng(1).int(0)).toThrow(RangeError);
    expect(() => new Rng(1).int(1.5)).toThrow(RangeError);
  });

  it('seedFromString is stable and spreads', () => {
    expect(seedFromString('abc')).toBe(seedFromString('abc'));
    expect(seedFromString('abc')).not.toBe(seedFromString('abd'));
  });
});

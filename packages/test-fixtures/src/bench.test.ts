import { describe, expect, it } from 'vitest';
import { childCpu, cpuTime, median, numberOption } from './index.js';

describe('numberOption', () => {
  it('reads --name value, else the fallback', () => {
    const args = ['--repeats', '7', '--copies', '0.5'];
    expect(numberOption('repeats', 3, args)).toBe(7);
    expect(numberOption('copies', 3, args)).toBe(0.5);
    expect(numberOption('other', 3, args)).toBe(3);
  });
});

describe('median', () => {
  it('is the middle value, the upper middle for an even count, and leaves its input alone', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([10, 9])).toBe(10); // numeric, not string, order
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('cpuTime', () => {
  it('runs fn `repeats` times and reports its count and the CPU it used', async () => {
    let runs = 0;
    const t = await cpuTime(async () => {
      runs++;
      let s = 0;
      for (let i = 0; i < 2e6; i++) s += Math.sqrt(i);
      return s > 0 ? runs * 10 : 0;
    }, 3);
    expect(runs).toBe(3);
    expect(t.count).toBe(30);
    expect(t.seconds).toBeGreaterThan(0);
    expect(t.wall).toBeGreaterThan(0);
  });

  it('takes the CPU seconds a run reports for its child processes', async () => {
    let k = 0;
    const reported = [0.3, 0.1, 0.2];
    const t = await cpuTime(async () => ({ count: 5, cpu: reported[k++]! }), 3);
    expect(t).toMatchObject({ seconds: 0.2, count: 5 });
  });
});

describe('childCpu', () => {
  it('measures the CPU of child processes, and throws naming a failing command', () => {
    expect(childCpu(`awk 'BEGIN { for (i = 0; i < 3e6; i++) s += i }'`)).toBeGreaterThan(0);
    expect(childCpu('true')).toBeLessThan(0.5);
    expect(() => childCpu('exit 3')).toThrow(/exit 3 failed \(exit 3\)/);
  });
});

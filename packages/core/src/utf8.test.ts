import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { firstInvalidUtf8 } from './utf8.js';

/** Node's own validator decides: the bytes before the answer are UTF-8, and no longer prefix is. */
function expectFirstInvalid(bytes: Uint8Array): void {
  const at = firstInvalidUtf8(bytes);
  if (isUtf8(bytes)) {
    expect(at).toBe(-1);
    return;
  }
  expect(at).toBeGreaterThanOrEqual(0);
  expect(isUtf8(bytes.subarray(0, at))).toBe(true);
  for (let end = at + 1; end <= Math.min(bytes.length, at + 4); end++) expect(isUtf8(bytes.subarray(0, end))).toBe(false);
  expect(isUtf8(bytes.subarray(0, bytes.length))).toBe(false);
}

const TEXT = Buffer.from(
  'Call me Ishmael. Größe, façade, naïve — «Привет, мир» · 吾輩は猫である。名前はまだ無い。 ' +
    'Ελληνικά, עברית, العربية, हिन्दी, 한국어, emoji 🐋🌊 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP.\n',
  'utf8',
);

describe('firstInvalidUtf8', () => {
  it('is -1 for valid UTF-8 in many scripts, and for nothing', () => {
    expect(firstInvalidUtf8(TEXT)).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array(0))).toBe(-1);
  });

  it.each([
    ['stray continuation', [0x41, 0x80, 0x41], 1],
    ['C0/C1 overlong lead', [0x41, 0xc0, 0xaf], 1],
    ['E0 overlong', [0xe0, 0x80, 0xaf], 0],
    ['surrogate (ED A0 80)', [0x41, 0x42, 0xed, 0xa0, 0x80], 2],
    ['F0 overlong', [0xf0, 0x80, 0x80, 0x80], 0],
    ['above U+10FFFF (F4 90)', [0xf4, 0x90, 0x80, 0x80], 0],
    ['F5 lead', [0xf5, 0x80, 0x80, 0x80], 0],
    ['cut short at the end', [0x41, 0xe6, 0x97], 1],
    ['missing continuation', [0xc3, 0x41], 0],
  ])('finds %s', (_name, bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(at);
    expectFirstInvalid(Uint8Array.from(bytes));
  });

  it('agrees with node:buffer isUtf8 on corrupted text and on random bytes', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Uint8Array.from(TEXT);
      for (let k = rng.int(3); k >= 0; k--) bytes[rng.int(bytes.length)] = rng.int(256);
      expectFirstInvalid(trial % 2 ? bytes : bytes.subarray(0, rng.int(bytes.length + 1)));
    }
    for (let trial = 0; trial < 2000; trial++) expectFirstInvalid(Uint8Array.from({ length: 1 + rng.int(12) }, () => rng.int(256)));
  });
});

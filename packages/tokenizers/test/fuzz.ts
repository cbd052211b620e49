import type { Rng } from '@pretext/core';

/** Random text from a palette that exercises every branch of the GPT-2 pattern and the byte fallback. */
export function fuzzText(rng: Rng, pieces: number): string {
  const palette = [
    'a', 'b', 'Zebra', 'the', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\u00a0', '\u0085', '\ufeff', '\u3000', '\u2028', '\u000b',
    "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "''", "'S", '1', '23', '4567', '٣', '½', 'é', 'ß', 'İ', 'ΑΣ', 'ж', '😀', '👍🏽', '𝐀', '𝟏',
    '中文', 'カタカナ', '.', ',', '!?', '—', '...', '$', '_', '\u0000', '\u200d', '\u0301', 'x\u0301', '<|endoftext|>',
  ];
  let s = '';
  for (let i = 0; i < pieces; i++) s += palette[rng.int(palette.length)];
  return s;
}


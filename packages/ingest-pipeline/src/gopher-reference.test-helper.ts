import { words } from './filters.js';

/** datatrove's GopherRepetitionFilter statistics, transcribed with strings (the slow, obvious way) as an oracle. */
export function repetitionReference(text: string) {
  const dup = (segments: string[]) => {
    const seen = new Set<string>();
    let n = 0;
    let chars = 0;
    for (const s of segments) {
      if (seen.has(s)) {
        n++;
        chars += s.length;
      } else seen.add(s);
    }
    return [n, chars] as const;
  };
  const paragraphs = text.trim().split(/\n{2,}/);
  const lines = text.split(/\n+/);
  const ws = words(text);
  const grams = (n: number) => Array.from({ length: Math.max(0, ws.length - n + 1) }, (_, i) => ws.slice(i, i + n).join(' '));
  const top = (n: number) => {
    const g = grams(n);
    if (g.length === 0) return 0;
    const counts = new Map<string, number>();
    for (const x of g) counts.set(x, (counts.get(x) ?? 0) + 1);
    let best = '';
    let bestCount = 0;
    for (const [x, c] of counts) if (c > bestCount) [best, bestCount] = [x, c];
    return (best.length * bestCount) / text.length;
  };
  const allDup = (n: number) => {
    const seen = new Set<string>();
    let chars = 0;
    let i = 0;
    while (i < ws.length - n + 1) {
      const g = ws.slice(i, i + n).join('');
      if (seen.has(g)) {
        chars += g.length;
        i += n;
      } else {
        seen.add(g);
        i++;
      }
    }
    return chars / text.length;
  };
  const [pd, pc] = dup(paragraphs);
  const [ld, lc] = dup(lines);
  return {
    gopher_dup_line_frac: ld / lines.length,
    gopher_dup_para_frac: pd / paragraphs.length,
    gopher_dup_line_char_frac: lc / text.length,
    gopher_dup_para_char_frac: pc / text.length,
    gopher_top_2gram_frac: top(2),
    gopher_top_3gram_frac: top(3),
    gopher_top_4gram_frac: top(4),
    gopher_dup_5gram_frac: allDup(5),
    gopher_dup_6gram_frac: allDup(6),
    gopher_dup_7gram_frac: allDup(7),
    gopher_dup_8gram_frac: allDup(8),
    gopher_dup_9gram_frac: allDup(9),
    gopher_dup_10gram_frac: allDup(10),
  };
}


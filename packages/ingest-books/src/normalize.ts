
/**
 * The normalization every book document gets: BOM removed, CRLF and lone CR → LF, trailing whitespace of every
 * line removed, runs of blank lines collapsed to one (paragraphs stay separated by one empty line), leading and
 * trailing blank lines removed. Line breaks inside paragraphs are kept (poetry, tables of contents).
 */
export function normalizeText(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0\u3000]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '')
    .replace(/\s+$/, '');
}

/** Stable, content-derived id: the first 32 hex digits of sha256(source + NUL + normalized text). */

/** Natural order: digit runs compare as numbers (chapter_2 before chapter_10), the rest by code unit. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length; // "02" after "2"
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

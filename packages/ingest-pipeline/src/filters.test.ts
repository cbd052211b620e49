import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTextBook } from '@pretext/ingest-books';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { corpus } from './corpora.test-helper.js';
import {
  GOPHER_QUALITY_DEFAULTS,
  GOPHER_REPETITION_DEFAULTS,
  gopherQualityScores,
  gopherQualityVerdict,
  gopherRepetitionScores,
  gopherRepetitionVerdict,
  words,
} from './filters.js';

/** datatrove's GopherRepetitionFilter statistics, transcribed with strings (the slow, obvious way) as an oracle. */
function reference(text: string) {
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

async function webPages(): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['commoncrawl/cc/resiliparse/warcfile.warc.gz', 'commoncrawl/non-cc/dolma/sample-0000.warc.gz', 'commoncrawl/non-cc/ia-web-commons/IAH-urls-wget.warc.gz']) {
    for await (const d of readCommonCrawl(corpus(f), { onError: () => undefined })) out.push(d.text);
  }
  return out;
}

const book = (f: string) => parseTextBook(readFileSync(corpus(f)), f, f).text;

describe('Gopher repetition', () => {
  it('matches a string-based transcription of datatrove on real web pages and a book', async () => {
    const texts = [...(await webPages()), book('books/gutenberg/ebookmaker/69030-0.txt')];
    expect(texts.length).toBeGreaterThan(30);
    for (const t of texts) {
      const mine = gopherRepetitionScores(t, words(t));
      const ref = reference(t);
      for (const [k, v] of Object.entries(ref)) expect(mine[k as keyof typeof mine], k).toBeCloseTo(v, 12);
    }
  });

  it('passes real prose and drops the same prose repeated', () => {
    const text = book('books/gutenberg/markovify/sherlock.txt');
    const s = gopherRepetitionScores(text, words(text));
    expect(gopherRepetitionVerdict(s, GOPHER_REPETITION_DEFAULTS)).toBeNull();
    const paragraph = text.split(/\n{2,}/).find((p) => p.length > 400 && /^[A-Z][a-z]/.test(p))!;
    const repeated = Array.from({ length: 4 }, () => paragraph).join('\n\n');
    const r = gopherRepetitionScores(repeated, words(repeated));
    expect(r.gopher_dup_para_frac).toBeCloseTo(3 / 4, 12);
    expect(gopherRepetitionVerdict(r, GOPHER_REPETITION_DEFAULTS)).toBe('gopher-repetition:dup-para-frac');
  });
});

describe('Gopher quality', () => {
  it('passes English books and drops a bullet list, an ellipsis list, symbol soup and text without stop words', () => {
    const prose = book('books/gutenberg/sentencepiece/botchan.txt');
    expect(gopherQualityVerdict(gopherQualityScores(prose, words(prose)), GOPHER_QUALITY_DEFAULTS)).toBeNull();
    // One sentence per line (the Gutenberg text is hard-wrapped).
    const sentences = prose.split(/(?<=\.)\s+/).slice(100, 160).map((s) => s.replace(/\s+/g, ' '));
    const verdict = (t: string) => gopherQualityVerdict(gopherQualityScores(t, words(t)), GOPHER_QUALITY_DEFAULTS);
    expect(verdict(sentences.map((s) => `• ${s}`).join('\n'))).toBe('gopher-quality:bullet-lines');
    expect(verdict(sentences.map((s) => `${s.slice(0, 40)}...`).join('\n'))).toBe('gopher-quality:symbol-word-ratio');
    expect(verdict(sentences.map((s) => `${s} #news #today #books`).join(' '))).toBe('gopher-quality:symbol-word-ratio');
    expect(verdict(sentences.join(' ').replace(/\b(the|be|to|of|and|that|have|with)\b/gi, 'a'))).toBe('gopher-quality:stop-words');
    expect(verdict(sentences.map((s) => s.replace(/[a-z]/gi, '7')).join(' '))).toBe('gopher-quality:alpha-words');
  });

  it('scores the stop words and word lengths of a real page', async () => {
    const [page] = (await webPages()).filter((t) => /\bthe\b/.test(t) && words(t).length > 100);
    const s = gopherQualityScores(page!, words(page!));
    expect(s.gopher_stop_words).toBeGreaterThan(2);
    expect(s.gopher_mean_word_length).toBeGreaterThan(3);
    expect(s.gopher_mean_word_length).toBeLessThan(10);
    expect(s.gopher_alpha_words_ratio).toBeGreaterThan(0.5);
  });
});

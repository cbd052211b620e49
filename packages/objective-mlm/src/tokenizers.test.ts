import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IGNORE_INDEX, Rng, type DataContext, type SpecialTokens, type TokenizedDocument } from '@pretext/core';
import { gutenbergBody, sharedCorporaDir, splitSentences, streamDocuments, take } from '@pretext/objective-testing';
import { loadTokenizer, tokenizeBatch, type Tokenizer } from '@pretext/tokenizers';
import { describe, expect, it } from 'vitest';
import { mlm } from './mlm.js';

const corpora = sharedCorporaDir(import.meta.url);
const text = gutenbergBody(readFileSync(path.join(corpora, 'books/gutenberg/markovify/sherlock.txt'), 'utf8'));
// Paragraph groups of the first part of the book, as documents.
const paragraphs = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter((p) => splitSentences(p).length > 0).slice(0, 600);
const texts: string[] = [];
for (let i = 0; i < paragraphs.length; i += 6) texts.push(paragraphs.slice(i, i + 6).join(' '));

function documents(tokenizer: Tokenizer): TokenizedDocument[] {
  const b = tokenizeBatch(tokenizer, texts);
  let p = 0;
  return texts.map((_, i) => {
    const n = b.lengths[i]!;
    const doc = { id: `d${i}`, ids: b.ids.slice(p, p + n), wordStarts: b.wordStarts.slice(p, p + n) };
    p += n;
    return doc;
  });
}

/** Masks the documents with whole-word masking and checks that no word (tokens from one word start to the next) is split. */
async function check(tokenizer: Tokenizer, special: SpecialTokens, vocabSize: number, consistent: (piece: string, isStart: boolean) => boolean) {
  const docs = documents(tokenizer);
  // The tokenizer's word starts mean what each scheme means by a word.
  let disagreements = 0;
  for (const d of docs) d.ids.forEach((id, i) => (consistent(tokenizer.idToToken(id)!, d.wordStarts![i] === 1) ? 0 : disagreements++));
  expect(disagreements).toBe(0);
  const ctx: DataContext = { seqLen: 128, vocabSize, special, rng: new Rng(4) };
  const objective = mlm({ wholeWord: true });
  const rows = await take(objective.defaultExamples!(streamDocuments(docs), ctx));
  let split = 0;
  let multi = 0;
  for (const row of rows) {
    const labels = objective.transform!(row, ctx).labels as Int32Array;
    const n = row.attention_mask.reduce((a, b) => a + b, 0);
    for (let i = 1; i < n - 1; ) {
      let j = i + 1;
      while (j < n - 1 && row.word_starts![j] === 0) j++;
      const chosen = labels[i] !== IGNORE_INDEX;
      for (let k = i; k < j; k++) if ((labels[k] !== IGNORE_INDEX) !== chosen) split++;
      if (chosen && j - i > 1) multi++;
      i = j;
    }
  }
  expect(split).toBe(0);
  expect(multi).toBeGreaterThan(50);
}

describe('whole-word masking with real tokenizers', () => {
  it('WordPiece (bert-base-uncased): ## pieces stay with their word', async () => {
    const tokenizer = await loadTokenizer(path.join(corpora, 'tokenizers/bert-base-uncased/tokenizer.json'));
    await check(tokenizer, tokenizer.special, tokenizer.vocabSize, (piece, isStart) => isStart === !piece.startsWith('##'));
  });

  it('byte-level BPE (GPT-2): pieces after a Ġ-start stay with their word', async () => {
    const tokenizer = await loadTokenizer(path.join(corpora, 'tokenizers/gpt2/tokenizer.json'));
    // GPT-2 has no [CLS]/[SEP]/[MASK]; add them after its vocabulary, as RoBERTa adds <s>, </s> and <mask>.
    const v = tokenizer.vocabSize;
    const special: SpecialTokens = { pad: tokenizer.special.eos!, eos: tokenizer.special.eos!, cls: v, sep: v + 1, mask: v + 2 };
    // A piece that begins with a space (Ġ) always begins a word; pieces without one may begin a word (the first
    // word of a text, punctuation after a letter) or continue one.
    await check(tokenizer, special, v + 3, (piece, isStart) => !piece.startsWith('Ġ') || isStart);
  });
});


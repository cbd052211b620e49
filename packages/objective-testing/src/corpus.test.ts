import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_BOOKS, FIXTURE_SPECIAL, fixtureCorpus, gutenbergBody, loadFixtureCorpus, sharedCorporaDir, splitSentences, splitWords, topicCorpus } from './corpus.js';

describe('fixture corpus', () => {
  it('finds the shared corpora next to the repository, and fails loudly where there is none', () => {
    expect(sharedCorporaDir(import.meta.url)).toMatch(/shared[/\\]corpora$/);
    expect(() => sharedCorporaDir('/tmp/nowhere/file.ts')).toThrow(/nx\.json/);
  });

  it('strips the Gutenberg header and footer', () => {
    const raw = readFileSync(path.join(sharedCorporaDir(import.meta.url), FIXTURE_BOOKS[0]), 'utf8');
    const body = gutenbergBody(raw);
    expect(body).not.toMatch(/PROJECT GUTENBERG EBOOK/);
    expect(body).not.toMatch(/\r/);
    expect(body).toMatch(/To Sherlock Holmes she is always THE woman\./);
  });

  it('splits sentences at end punctuation before a capital, and words into lower-case pieces', () => {
    expect(splitSentences('He came.  "Is it you?" she said. Yes!\nNo.')).toEqual(['He came.', '"Is it you?" she said.', 'Yes!', 'No.']);
    expect(splitWords("Holmes's pipe, 1891.")).toEqual(['holmes', "'", 's', 'pipe', ',', '1891', '.']);
    // Any script: Cyrillic and Vietnamese words stay whole, and their capitals start sentences.
    expect(splitWords('Đây là Việt Nam.')).toEqual(['đây', 'là', 'việt', 'nam', '.']);
    expect(splitSentences('София е столица. Тя е голяма.')).toEqual(['София е столица.', 'Тя е голяма.']);
    // Japanese puts no space after its full stop; closing brackets stay with their sentence.
    expect(splitSentences('吾輩は猫である。名前はまだ無い。「どこで生れたか」とんと見当がつかぬ。')).toEqual(['吾輩は猫である。', '名前はまだ無い。', '「どこで生れたか」とんと見当がつかぬ。']);
    expect(splitSentences('「そうか。」と言った。「行こう。」「はい。」')).toEqual(['「そうか。」と言った。', '「行こう。」', '「はい。」']);
  });

  it('turns the books into documents of sentences with word starts and a deterministic vocabulary', () => {
    const a = loadFixtureCorpus({ sentencesPerDocument: 10, maxDocuments: 50 }, import.meta.url);
    const b = loadFixtureCorpus({ sentencesPerDocument: 10, maxDocuments: 50 }, import.meta.url);
    expect(a.documents.length).toBe(50);
    expect(a.special).toEqual(FIXTURE_SPECIAL);
    for (const [i, d] of a.documents.entries()) {
      expect(Array.from(d.ids)).toEqual(Array.from(b.documents[i]!.ids));
      expect(d.sentenceStarts!.length).toBe(10);
      expect(d.sentenceStarts![0]).toBe(0);
      expect(d.wordStarts!.length).toBe(d.ids.length);
      expect(d.wordStarts![0]).toBe(1);
      for (const id of d.ids) expect(id >= 5 && id < a.vocabSize).toBe(true);
    }
    // Continuation pieces exist and are exactly the tokens whose piece starts with ##.
    let continuations = 0;
    for (const d of a.documents) {
      d.ids.forEach((id, i) => {
        expect(a.piece(id).startsWith('##')).toBe(d.wordStarts![i] === 0);
        if (d.wordStarts![i] === 0) continuations++;
      });
    }
    expect(continuations).toBeGreaterThan(100);
  });

  it('refuses texts without sentences', () => {
    expect(() => fixtureCorpus([{ id: 'empty', text: '   ' }])).toThrow(/no sentences/);
  });

  it('topicCorpus: every token of a document belongs to its one topic, seeded', () => {
    const c = topicCorpus({ topics: 5, tokensPerTopic: 10, documents: 50, seed: 3 });
    expect(c.vocabSize).toBe(5 + 50);
    expect(c.documents).toHaveLength(50);
    const topics = new Set<number>();
    for (const d of c.documents) {
      const topic = Math.floor((d.ids[0]! - 5) / 10);
      topics.add(topic);
      for (const id of d.ids) expect(Math.floor((id - 5) / 10)).toBe(topic);
      expect(d.sentenceStarts).toHaveLength(8);
      expect(d.ids.length).toBeGreaterThanOrEqual(48);
      expect(d.ids.length).toBeLessThanOrEqual(80);
    }
    expect(topics.size).toBe(5);
    expect(c.piece(5 + 23)).toBe('t2_3');
    expect(topicCorpus({ topics: 5, tokensPerTopic: 10, documents: 50, seed: 3 }).documents[7]!.ids).toEqual(c.documents[7]!.ids);
    // By position: sentence i of every document draws from topic i.
    const byPosition = topicCorpus({ topics: 5, tokensPerTopic: 10, documents: 20, sentencesPerDocument: 6, topicBy: 'position' });
    for (const d of byPosition.documents) {
      d.sentenceStarts!.forEach((start, i) => {
        const end = d.sentenceStarts![i + 1] ?? d.ids.length;
        for (let k = start; k < end; k++) expect(Math.floor((d.ids[k]! - 5) / 10)).toBe(i % 5);
      });
    }
  });
});

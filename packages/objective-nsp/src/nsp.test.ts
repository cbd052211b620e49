import { ConfigError, EmptyInputError, IGNORE_INDEX, ObjectiveConflictError, Rng, composeObjectives, type DataContext, type Example, type Objective, type TokenizedDocument } from '@pretext/core';
import { mlm } from '@pretext/objective-mlm';
import { loadFixtureCorpus, streamDocuments, take } from '@pretext/objective-testing';
import { describe, expect, it } from 'vitest';
import { NSP_LABEL, nsp, resolveNspOptions } from './nsp.js';
import { pairInstances, pairRow, type PairConfig, type PairInstance } from './pairs.js';

const corpus = loadFixtureCorpus({ sentencesPerDocument: 12 }, import.meta.url);
const SEQ = 128;
const NSP: PairConfig = { task: 'nsp', ...resolveNspOptions() };

function context(seed: number, seqLen = SEQ): DataContext {
  return { seqLen, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) };
}

async function instances(config: PairConfig, seed = 1, docs: readonly TokenizedDocument[] = corpus.documents, seqLen = SEQ): Promise<PairInstance[]> {
  return take(pairInstances(streamDocuments(docs), context(seed, seqLen), config));
}

function expectProportion(hits: number, n: number, p: number, k = 4): void {
  const se = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(hits / n - p), `observed ${hits}/${n} = ${(hits / n).toFixed(4)}, expected ${p.toFixed(4)} ± ${(k * se).toFixed(4)}`).toBeLessThanOrEqual(k * se);
}

describe('next-sentence pairs (BERT create_instances_from_document)', () => {
  it('labels 1 only with B from another document, labels 0 with B right after A in the same document', async () => {
    const all = await instances(NSP, 2);
    expect(all.length).toBeGreaterThan(2000);
    let bad = 0;
    for (const x of all) {
      const la = x.a.end - x.a.start;
      const lb = x.b.end - x.b.start;
      if (la < 1 || lb < 1 || la + lb > SEQ - 3) bad++;
      if (x.label === 1) {
        if (x.b.doc.id === x.a.doc.id || x.b.doc === x.a.doc) bad++;
      } else {
        // Contiguous: B starts where A ended, up to the tokens truncation took from A's back or B's front.
        if (x.b.doc !== x.a.doc || x.b.start < x.a.end || x.b.start - x.a.end > x.truncated) bad++;
        if (x.singleSegment) bad++;
      }
    }
    expect(bad).toBe(0);
  });

  it('is balanced: P(1) = 0.5 among chunks of two segments or more, always 1 for a single segment (within 4 standard errors)', async () => {
    const all = await instances(NSP, 3);
    const multi = all.filter((x) => !x.singleSegment);
    const single = all.filter((x) => x.singleSegment);
    expectProportion(multi.filter((x) => x.label === 1).length, multi.length, 0.5);
    expect(single.every((x) => x.label === 1)).toBe(true);
    const ones = all.filter((x) => x.label === 1).length;
    expectProportion(ones, all.length, 0.5 + (0.5 * single.length) / all.length);
    // `skip` drops single-segment chunks, so labels are balanced overall.
    const skipped = await instances({ ...NSP, singleSegment: 'skip' }, 3);
    expect(skipped.some((x) => x.singleSegment)).toBe(false);
    expectProportion(skipped.filter((x) => x.label === 1).length, skipped.length, 0.5);
  });

  it('draws a short target for about 10% of documents, within [2, seqLen − 3]', async () => {
    const all = await instances(NSP, 4);
    const targets = new Map<string, number>();
    let inconsistent = 0;
    for (const x of all) {
      const t = targets.get(x.a.doc.id);
      if (t !== undefined && t !== x.target) inconsistent++;
      targets.set(x.a.doc.id, x.target);
    }
    expect(inconsistent).toBe(0);
    const values = [...targets.values()];
    expect(values.every((t) => t >= 2 && t <= SEQ - 3)).toBe(true);
    // randint(2, max) lands on max itself with probability 1/(max − 1).
    expectProportion(values.filter((t) => t < SEQ - 3).length, values.length, 0.1 * (1 - 1 / (SEQ - 4)));
  });

  it('puts unused segments back: with every B random, A spans still cover nearly every token', async () => {
    const all = await instances({ ...NSP, negativeProbability: 1, shortSeqProb: 0 }, 5);
    const covered = new Map<TokenizedDocument, Uint8Array>();
    for (const x of all) {
      let c = covered.get(x.a.doc);
      if (!c) covered.set(x.a.doc, (c = new Uint8Array(x.a.doc.ids.length)));
      c.fill(1, x.a.start, x.a.end);
    }
    let total = 0;
    let hit = 0;
    for (const d of corpus.documents) {
      total += d.ids.length;
      hit += covered.get(d)?.reduce((a, b) => a + b, 0) ?? 0;
    }
    expect(all.every((x) => x.label === 1)).toBe(true);
    // Without putting back, A would cover about half of each chunk.
    expect(hit / total).toBeGreaterThan(0.9);
  });

  it('truncates the longer side, from the front or the back', async () => {
    const all = await instances({ ...NSP, shortSeqProb: 0 }, 6, corpus.documents, 48);
    const cut = all.filter((x) => x.truncated > 0);
    expect(cut.length).toBeGreaterThan(200);
    const bounds = new Map<TokenizedDocument, Set<number>>(corpus.documents.map((d) => [d, new Set([...d.sentenceStarts!, d.ids.length])]));
    let checked = 0;
    for (const x of cut) {
      const la = x.a.end - x.a.start;
      const lb = x.b.end - x.b.start;
      expect(la + lb).toBe(48 - 3);
      if (x.label !== 0 || Math.abs(la - lb) <= 1) continue;
      // Trimming always takes from the longer side, so when the two still differ by more than one token the
      // shorter side was never touched: it is still whole sentences.
      const shorter = la < lb ? x.a : x.b;
      const whole = bounds.get(shorter.doc)!;
      expect(whole.has(shorter.start) && whole.has(shorter.end)).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    // Front truncation happens: some A no longer starts at a sentence start.
    expect(cut.some((x) => !bounds.get(x.a.doc)!.has(x.a.start))).toBe(true);
    // And back truncation: some A no longer ends at one.
    expect(cut.some((x) => x.label === 0 && !bounds.get(x.a.doc)!.has(x.a.end))).toBe(true);
  });

  it('never takes B from the same document, even when another document carries the same id', async () => {
    const [d0, d1, d2] = corpus.documents;
    const twin: TokenizedDocument = { ...d1!, id: d0!.id };
    const all = await instances(NSP, 7, [d0!, twin, d2!]);
    const random = all.filter((x) => x.label === 1);
    expect(random.length).toBeGreaterThan(5);
    for (const x of random) expect(x.b.doc.id).not.toBe(x.a.doc.id);
  });

  it('fails with EmptyInputError when only one document exists', async () => {
    await expect(instances(NSP, 1, [corpus.documents[0]!])).rejects.toThrow(EmptyInputError);
  });

  it('is deterministic under a seed and differs across seeds', async () => {
    const key = (xs: PairInstance[]) => xs.map((x) => `${x.a.doc.id}:${x.a.start}-${x.a.end}|${x.b.doc.id}:${x.b.start}-${x.b.end}|${x.label}`).join(',');
    const docs = corpus.documents.slice(0, 120);
    expect(key(await instances(NSP, 9, docs))).toBe(key(await instances(NSP, 9, docs)));
    expect(key(await instances(NSP, 9, docs))).not.toBe(key(await instances(NSP, 10, docs)));
  });
});

describe('nsp rows', () => {
  it('are [CLS] A [SEP] B [SEP] with token types, attention, special mask and word starts', async () => {
    const all = await instances(NSP, 11, corpus.documents.slice(0, 60));
    const { cls, sep, pad } = corpus.special;
    for (const x of all) {
      const e = pairRow(x, context(0), NSP_LABEL, true);
      const la = x.a.end - x.a.start;
      const lb = x.b.end - x.b.start;
      const n = la + lb + 3;
      const expectIds = [cls, ...x.a.doc.ids.subarray(x.a.start, x.a.end), sep, ...x.b.doc.ids.subarray(x.b.start, x.b.end), sep, ...new Array(SEQ - n).fill(pad)];
      expect(Array.from(e.input_ids)).toEqual(expectIds);
      expect(Array.from(e.token_type_ids!)).toEqual([...new Array(la + 2).fill(0), ...new Array(lb + 1).fill(1), ...new Array(SEQ - n).fill(0)]);
      expect(Array.from(e.attention_mask)).toEqual([...new Array(n).fill(1), ...new Array(SEQ - n).fill(0)]);
      expect(Array.from(e.special_tokens_mask!)).toEqual([1, ...new Array(la).fill(0), 1, ...new Array(lb).fill(0), 1, ...new Array(SEQ - n).fill(1)]);
      expect(Array.from(e.word_starts!.subarray(1, la + 1))).toEqual(Array.from(x.a.doc.wordStarts!.subarray(x.a.start, x.a.end)));
      expect(e[NSP_LABEL]).toBe(x.label);
    }
  });
});

describe('nsp objective', () => {
  it('declares its contract and incompatibilities', () => {
    const o = nsp();
    expect([o.name, o.architecture, o.writes]).toEqual(['nsp', 'encoder', [NSP_LABEL]]);
    expect(o.options).toEqual({ shortSeqProb: 0.1, negativeProbability: 0.5, documentBuffer: 1000, singleSegment: 'random-document' });
    const clm: Objective = { ...o, name: 'clm', architecture: 'decoder', writes: ['labels'], incompatible: {}, examples: undefined };
    expect(() => composeObjectives([nsp(), clm])).toThrow(ObjectiveConflictError);
    expect(() => composeObjectives([nsp(), clm])).toThrow(/causal decoder/);
    expect(() => nsp({ documentBuffer: 1 })).toThrow(ConfigError);
    expect(() => nsp({ singleSegment: 'split' as 'skip' })).toThrow(/nsp\.singleSegment/);
  });

  it('composed with mlm() gives BERT rows carrying labels and next_sentence_label', async () => {
    const c = composeObjectives([mlm(), nsp()]);
    expect(c.architecture).toBe('encoder');
    const rows: Example[] = await take(c.examples(streamDocuments(corpus.documents.slice(0, 80)), context(12)), 300);
    expect(rows.length).toBe(300);
    let predicted = 0;
    let onSpecial = 0;
    for (const e of rows) {
      expect([0, 1]).toContain(e[NSP_LABEL]);
      const labels = e.labels as Int32Array;
      for (let i = 0; i < SEQ; i++) {
        if (labels[i] === IGNORE_INDEX) continue;
        predicted++;
        if (e.special_tokens_mask![i] || !e.attention_mask[i]) onSpecial++;
      }
      expect(e.token_type_ids!.some((t) => t === 1)).toBe(true);
    }
    expect(onSpecial).toBe(0);
    expect(predicted).toBeGreaterThan(300 * 10);
  });
});

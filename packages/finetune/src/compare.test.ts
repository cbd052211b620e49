import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gutenbergBody, sharedCorporaDir } from '@pretext/objective-testing';
import { trainWordPiece, type Tokenizer } from '@pretext/tokenizers';
import type { TrainData } from '@pretext/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_ARMS, COMPARE_PRESETS, compareObjectives, documentsFromTexts, type CompareRun } from './compare.js';
import type { LabelledDataset } from './labelled.js';
import { spamAssassin } from './spam-assassin.js';

let dir: string;
let spam: LabelledDataset;
let tokenizer: Tokenizer;
let corpus: TrainData;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-compare-'));
  spam = await spamAssassin({ limit: 160, seed: 2, cacheDir: false });
  const book = gutenbergBody(readFileSync(path.join(sharedCorporaDir(import.meta.url), 'books/gutenberg/markovify/sherlock.txt'), 'utf8')).slice(0, 60_000);
  tokenizer = await trainWordPiece([book, ...spam.texts], { vocabSize: 800 });
  const docs = documentsFromTexts(tokenizer, [{ id: 'sherlock', text: book }], 6);
  corpus = { train: async function* () { yield* docs.slice(2); }, validation: async function* () { yield* docs.slice(0, 2); } };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const strip = (runs: readonly CompareRun[]) => runs.map(({ seconds: _s, ...rest }) => rest);

describe('compareObjectives --quick', () => {
  it('pre-trains every objective, fine-tunes each and a scratch baseline, and writes the table and plot', async () => {
    const events: string[] = [];
    const t0 = performance.now();
    const r = await compareObjectives({ outDir: path.join(dir, 'all'), corpus, tokenizer, labelled: spam, settings: 'quick', onProgress: (e) => { events.push(`${e.phase}:${e.arm}:${e.done}/${e.total}`); if (process.env.PRETEXT_DEBUG) console.log(((performance.now() - t0) / 1000).toFixed(1), e.phase, e.arm, e.detail); } });
    const q = COMPARE_PRESETS.quick;
    expect(r.pretrain.map((p) => p.arm)).toEqual([...COMPARE_ARMS]);
    // Equal compute: every arm sees the same number of tokens.
    for (const p of r.pretrain) expect([p.steps, p.tokens]).toEqual([q.pretrain.steps, q.pretrain.steps * q.pretrain.batchSize * q.pretrain.seqLen]);
    const arms = ['scratch', ...COMPARE_ARMS];
    expect(r.runs).toHaveLength(arms.length * q.finetune.fractions.length * q.finetune.seeds.length);
    expect(r.summary.map((s) => `${s.arm}@${s.fraction}`)).toEqual(arms.flatMap((a) => q.finetune.fractions.map((f) => `${a}@${f}`)));
    for (const run of r.runs) {
      expect(run.accuracy).toBeGreaterThanOrEqual(0);
      expect(run.accuracy).toBeLessThanOrEqual(1);
    }
    // 120 sampled rows split 70/10/20: 84 training rows, 10% of them per label.
    expect(r.runs.filter((x) => x.fraction === 1).every((x) => x.trainRows === 84)).toBe(true);
    expect(events.at(-1)).toBe(`finetune:electra-rtd:${r.runs.length + COMPARE_ARMS.length}/${r.runs.length + COMPARE_ARMS.length}`);
    const md = await readFile(r.files.markdown, 'utf8');
    for (const arm of arms) expect(md).toMatch(new RegExp(`^\\| ${arm.replace('+', '\\+')} \\| \\d\\.\\d{3} ± \\d\\.\\d{3} \\| \\d\\.\\d{3} ± \\d\\.\\d{3} \\|$`, 'm'));
    expect(JSON.parse(await readFile(r.files.json, 'utf8')).runs).toHaveLength(r.runs.length);
    expect(await readFile(r.files.plot, 'utf8')).toMatch(/^<svg[\s\S]*mlm\+sop[\s\S]*<\/svg>$/);
  });

  it('gives the same numbers for the same seeds', async () => {
    const once = () => compareObjectives({ outDir: path.join(dir, `again-${Math.random()}`), corpus, tokenizer, labelled: spam, settings: 'quick', arms: ['mlm+nsp'] });
    const [a, b] = [await once(), await once()];
    expect(strip(b.runs)).toEqual(strip(a.runs));
    expect(b.pretrain[0]!.validation).toEqual(a.pretrain[0]!.validation);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenizerError } from '@pretext/core';
import { mlm } from '@pretext/objective-mlm';
import { nsp } from '@pretext/objective-nsp';
import { gutenbergBody, sharedCorporaDir } from '@pretext/objective-testing';
import { trainWordPiece, type Tokenizer } from '@pretext/tokenizers';
import { listCheckpoints, readSafetensors, train, type ModelConfig } from '@pretext/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentsFromTexts } from './compare.js';
import { buildClassifierModel, finetune } from './finetune.js';
import type { LabelledDataset } from './labelled.js';
import { spamAssassin } from './spam-assassin.js';

const TINY: ModelConfig = { architecture: 'encoder', dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxPositions: 48, dropout: 0.1, typeVocabSize: 2 };
let dir: string;
let spam: LabelledDataset;
let tokenizer: Tokenizer;
let runDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-finetune-'));
  spam = await spamAssassin({ limit: 400, seed: 1, cacheDir: false });
  const book = gutenbergBody(readFileSync(path.join(sharedCorporaDir(import.meta.url), 'books/gutenberg/markovify/sherlock.txt'), 'utf8')).slice(0, 120_000);
  tokenizer = await trainWordPiece([book, ...spam.texts], { vocabSize: 1000 });
  // A tiny BERT pre-trained for a few steps with mlm + nsp, so the checkpoint also holds an nsp pooler.
  const docs = documentsFromTexts(tokenizer, [{ id: 'sherlock', text: book }], 8);
  runDir = path.join(dir, 'pretrain');
  await train({
    objectives: [mlm(), nsp()],
    data: { train: async function* () { yield* docs; } },
    vocabSize: tokenizer.vocabSize,
    special: tokenizer.special,
    model: TINY,
    outDir: runDir,
    seqLen: 48,
    batchSize: 8,
    maxSteps: 3,
    checkpointEvery: 3,
    workers: 1,
    seed: 2,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the model under the classifier', () => {
  it('holds exactly the checkpoint’s weights (every backbone tensor, and the nsp pooler as the classifier’s pooler)', async () => {
    const newest = (await listCheckpoints(path.join(runDir, 'checkpoints'))).at(-1)!;
    const saved = (await readSafetensors(path.join(newest.dir, 'model.safetensors'))).tensors;
    const built = await buildClassifierModel({ from: runDir, tokenizer, numLabels: 2, seed: 0 });
    try {
      const params = built.session.store.list();
      const backbone = params.filter((p) => p.name.startsWith('backbone/'));
      expect(backbone.length).toBeGreaterThan(10);
      for (const p of backbone) expect(Array.from(p.variable.dataSync()), p.name).toEqual(Array.from(saved.get(p.name)!.data));
      expect(Array.from(built.session.store.get('classify/pooler/kernel').dataSync())).toEqual(Array.from(saved.get('nsp/pooler/kernel')!.data));
      expect(new Set(built.loaded)).toEqual(new Set([...backbone.map((p) => p.name), 'classify/pooler/kernel', 'classify/pooler/bias']));
      expect(saved.has('classify/classifier/kernel')).toBe(false);
      expect(built.pretrained?.objectives).toEqual(['mlm', 'nsp']);
      expect(built.pooling).toBe('cls');
    } finally {
      built.session.dispose();
    }
    const scratch = await buildClassifierModel({ from: 'scratch', model: TINY, tokenizer, numLabels: 2, seed: 0 });
    try {
      expect(scratch.loaded).toEqual([]);
      const wte = Array.from(scratch.session.store.get('backbone/wte').dataSync());
      expect(wte).toHaveLength(saved.get('backbone/wte')!.data.length);
      expect(wte).not.toEqual(Array.from(saved.get('backbone/wte')!.data));
    } finally {
      scratch.session.dispose();
    }
  });

  it('refuses a tokenizer whose vocabulary differs from the checkpoint’s', async () => {
    const other = await trainWordPiece(spam.texts.slice(0, 50), { vocabSize: 300 });
    await expect(buildClassifierModel({ from: runDir, tokenizer: other, numLabels: 2, seed: 0 })).rejects.toThrow(TokenizerError);
  });
});

describe('finetune', () => {
  const small = (seed: number, outDir?: string) =>
    finetune({ from: runDir, data: spam, tokenizer, epochs: 1, minSteps: 4, batchSize: 16, learningRate: 1e-3, trainFraction: 0.2, seed, patience: 0, ...(outDir ? { outDir } : {}) });

  it('is deterministic for a seed (same history, predictions and metrics) and changes with the seed', async () => {
    const a = await small(7, path.join(dir, 'a'));
    const b = await small(7, path.join(dir, 'b'));
    const c = await small(8);
    expect(await readFile(path.join(dir, 'b', 'history.jsonl'), 'utf8')).toBe(await readFile(path.join(dir, 'a', 'history.jsonl'), 'utf8'));
    expect(b.test).toEqual(a.test);
    expect(c.validation.loss).not.toBe(a.validation.loss);
    // 400 rows (275 ham, 125 spam): test round(55)+round(25), validation round(27.5)+round(12.5), then 20% of the 192 + 87 left.
    expect(a.sizes).toEqual({ train: 38 + 17, validation: 28 + 13, test: 55 + 25 });
    const metrics = JSON.parse(await readFile(path.join(dir, 'a', 'metrics.json'), 'utf8')) as { test: { confusion: number[][] } };
    expect(metrics.test.confusion).toEqual(a.test.confusion);
    expect(await readFile(path.join(dir, 'a', 'confusion.svg'), 'utf8')).toMatch(/^<svg[\s\S]*ham[\s\S]*spam[\s\S]*<\/svg>$/);
  });

  it('learns SpamAssassin from scratch in 40 steps: test accuracy well above always answering ham', async () => {
    const r = await finetune({ from: 'scratch', model: TINY, data: spam, tokenizer, seqLen: 48, epochs: 1, minSteps: 40, batchSize: 32, learningRate: 1e-2, patience: 0, seed: 0 });
    expect(r.majorityAccuracy).toBeCloseTo(55 / 80, 6);
    expect(r.test.accuracy).toBeGreaterThan(r.majorityAccuracy + 0.1);
    expect(r.test.macroF1).toBeGreaterThan(0.75);
    expect(r.steps).toBe(40);
  });
});

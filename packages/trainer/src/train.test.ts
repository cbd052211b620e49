import { mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, NonFiniteLossError, type Objective, type TokenizedDocument } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments, stream } from '@pretext/test-fixtures';
import { bookData } from './book-data.test-helper.js';
import { decodeSafetensors } from './safetensors.js';
import { train, type TrainOptions } from './train.js';
import type { ModelConfig } from './model.js';

const docs = bookDocuments('gutenberg/markovify/sherlock.txt');
const trainDocs = docs.filter((_, i) => i % 10 !== 0);
const valDocs = docs.filter((_, i) => i % 10 === 0);
const tiny: ModelConfig = { architecture: 'decoder', dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxPositions: 32, dropout: 0 };

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-trainer-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function options(outDir: string, overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    objectives: [clm()],
    data: { train: () => stream(trainDocs), validation: () => stream(valDocs) },
    vocabSize: BYTE_VOCAB,
    special: BYTE_SPECIAL,
    model: tiny,
    outDir,
    seqLen: 32,
    batchSize: 8,
    maxSteps: 12,
    learningRate: 3e-3,
    warmupSteps: 2,
    evalEvery: 6,
    evalBatches: 2,
    logEvery: 1,
    checkpointEvery: 4,
    keepCheckpoints: 2,
    shuffleBuffer: 64,
    seed: 7,
    workers: 1,
    ...overrides,
  };
}

async function readRows(file: string): Promise<Record<string, number | string>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Record<string, number | string>);
}

describe('train', () => {
  it('lowers the loss on real text and writes metrics, config, plot and checkpoints', async () => {
    const out = await tempDir();
    const result = await train(options(out, { maxSteps: 24, evalEvery: 12, checkpointEvery: 8, sample: { prompt: Int32Array.from(Buffer.from('The ')), maxNewTokens: 12 } }));
    expect(result.backend.name).toBe('wasm');
    expect(result.steps).toBe(24);
    expect(result.validation!.last).toBeLessThan(result.validation!.first - 0.5);
    expect(result.train.last).toBeLessThan(result.train.first - 0.5);
    const rows = await readRows(result.metricsFile);
    const trainRows = rows.filter((r) => r['split'] === undefined);
    const valRows = rows.filter((r) => r['split'] === 'val');
    expect(trainRows.map((r) => r['step'])).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    for (const r of trainRows) {
      expect(typeof r['loss']).toBe('number');
      expect(r['lr']).toBeGreaterThan(0);
      expect(r['tokens_per_second']).toBeGreaterThan(0);
    }
    expect(valRows.map((r) => r['step'])).toEqual([0, 12, 24]);
    for (const r of valRows) {
      expect(r['perplexity']).toBeCloseTo(Math.exp(r['loss'] as number), 6);
      expect(r['clm.accuracy']).toBeGreaterThanOrEqual(0);
    }
    // Warmup then cosine decay to 10% of the peak.
    expect(trainRows[0]!['lr']).toBeCloseTo(1.5e-3, 9);
    expect(trainRows[1]!['lr']).toBeCloseTo(3e-3, 9);
    expect(trainRows.at(-1)!['lr']).toBeCloseTo(3e-4, 9);
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(config.model.dModel).toBe(32);
    expect(config.objectives[0].name).toBe('clm');
    const svg = await readFile(result.plotFile, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('learning rate');
    // keepCheckpoints: 2 → only the last two remain.
    expect((await readdir(path.join(out, 'checkpoints'))).sort()).toEqual(['step-16', 'step-24']);
    const weights = decodeSafetensors(await readFile(path.join(out, 'checkpoints/step-24/model.safetensors')));
    expect(weights.tensors.get('backbone/wte')!.shape).toEqual([BYTE_VOCAB, 32]);
    expect(weights.tensors.get('clm/bias')!.shape).toEqual([BYTE_VOCAB]);
    // Samples start with the prompt; training changes what follows it.
    expect([...result.samples!.before.slice(0, 4)]).toEqual([...Buffer.from('The ')]);
    expect([...result.samples!.after]).not.toEqual([...result.samples!.before]);
  });

  it('gives identical losses for the same seed and different ones for another seed', async () => {
    const a = await train(options(await tempDir()));
    const b = await train(options(await tempDir()));
    const c = await train(options(await tempDir(), { seed: 8 }));
    const losses = async (file: string) => (await readRows(file)).map((r) => r['loss']);
    const la = await losses(a.metricsFile);
    expect(await losses(b.metricsFile)).toEqual(la);
    expect(await losses(c.metricsFile)).not.toEqual(la);
  });

  it('splits steps into shares: the same losses on a replica thread or one after another, close to one share', async () => {
    const one = await train(options(await tempDir(), { maxSteps: 6, evalEvery: 6 }));
    const threaded = await train(options(await tempDir(), { maxSteps: 6, evalEvery: 6, workers: 2, replicaThreads: 'always' }));
    const sequential = await train(options(await tempDir(), { maxSteps: 6, evalEvery: 6, workers: 2, replicaThreads: 'never' }));
    expect(one.workers).toBe(1);
    expect(threaded.workers).toBe(2);
    expect(threaded.threads).toBe(2);
    expect(sequential.threads).toBe(1);
    const losses = async (file: string) => (await readRows(file)).map((r) => r['loss'] as number);
    const [a, b, c] = [await losses(one.metricsFile), await losses(threaded.metricsFile), await losses(sequential.metricsFile)];
    expect(c).toEqual(b);
    expect(b.length).toBe(a.length);
    // One share vs two differ only in the order of float sums.
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
  });

  it('resumes from the last checkpoint with the same losses as an uninterrupted run', async () => {
    const full = await train(options(await tempDir()));
    const dir = await tempDir();
    await train(options(dir, { maxSteps: 12, checkpointEvery: 5 })); // checkpoints at 5, 10, 12
    // Simulate a run killed after step 5, while writing step 10: drop the later checkpoints, leave a half-written one.
    await rm(path.join(dir, 'checkpoints/step-12'), { recursive: true });
    await rename(path.join(dir, 'checkpoints/step-10'), path.join(dir, 'checkpoints/.tmp-step-10-999'));
    await rm(path.join(dir, 'checkpoints/.tmp-step-10-999/state.json'));
    const resumed = await train(options(dir, { resume: true, checkpointEvery: 5 }));
    expect(resumed.steps).toBe(12);
    expect((await readdir(path.join(dir, 'checkpoints'))).sort()).toEqual(['step-10', 'step-12']);
    const key = (r: Record<string, number | string>) => `${r['split'] ?? 'train'}:${r['step']}:${r['loss']}`;
    const a = (await readRows(full.metricsFile)).map(key);
    const b = (await readRows(resumed.metricsFile)).map(key);
    expect(b).toEqual(a);
    // A different vocabulary (another tokenizer) is refused before anything is loaded.
    await expect(train(options(dir, { resume: true, vocabSize: BYTE_VOCAB + 8 }))).rejects.toThrow(/^vocabSize=266 is invalid: expected 258 as in the checkpoint/);
  });

  it('builds batches on a loader thread with the losses of the main thread, and resumes on it exactly', async () => {
    // 12 training paragraphs: 34 examples an epoch, so 8 steps of 2 micro-batches of 8 cross three epoch boundaries
    // (and the resume point, step 4, lies inside the second epoch).
    const data = bookData({ book: 'gutenberg/markovify/sherlock.txt', validationEvery: 10, limit: 14 });
    const small = { data, maxSteps: 8, gradAccumulation: 2, evalEvery: 4, checkpointEvery: 4 };
    const main = await train(options(await tempDir(), { ...small, loader: 'main' }));
    const dir = await tempDir();
    const thread = await train(options(dir, small));
    expect(main.loader.mode).toBe('main');
    expect(main.loader.reason).toBe('chosen with loader: main');
    expect(thread.loader.mode).toBe('thread');
    expect(thread.loader.reason).toMatch(/^objectives and data have origins: 4 batches built ahead$/);
    expect(thread.loader.buildSeconds).toBeGreaterThan(0);
    const strip = ({ tokens_per_second: _t, elapsed_s: _e, ...row }: Record<string, number | string>) => row;
    const rows = async (file: string) => (await readRows(file)).map(strip);
    const expected = await rows(main.metricsFile);
    expect(expected.filter((r) => r['split'] === undefined)).toHaveLength(8);
    expect(await rows(thread.metricsFile)).toEqual(expected);
    // Killed after step 4: the thread reopens the second epoch at the saved position (64 = 34 + 30 examples).
    await rm(path.join(dir, 'checkpoints/step-8'), { recursive: true });
    const state = JSON.parse(await readFile(path.join(dir, 'checkpoints/step-4/state.json'), 'utf8'));
    expect(state.data).toEqual({ epoch: 1, consumed: 30 });
    const resumed = await train(options(dir, { ...small, resume: true }));
    expect(resumed.loader.mode).toBe('thread');
    expect(await rows(resumed.metricsFile)).toEqual(expected);
  });

  it('chooses the main thread for data without an origin, and passes errors of the loader thread on typed', async () => {
    const plain = await train(options(await tempDir(), { maxSteps: 1, evalEvery: 1, checkpointEvery: 1 }));
    expect(plain.loader).toMatchObject({ mode: 'main', reason: 'the data has no origin to rebuild in a thread', prefetch: 0 });
    await expect(train(options(await tempDir(), { loader: 'thread' }))).rejects.toThrow(/^loader="thread" is invalid: .*the data has no origin/);
    const unsendable = { ...bookData({ book: 'gutenberg/markovify/sherlock.txt', validationEvery: 10, limit: 14 }) };
    unsendable.origin = { ...unsendable.origin!, options: { ...unsendable.origin!.options, filter: () => true } };
    await expect(train(options(await tempDir(), { data: unsendable }))).rejects.toThrow(/^loader="thread" is invalid: expected objective and data origins whose options are plain data/);
    // Ids outside the vocabulary are found while the thread builds the first batch (no validation set to find them
    // first on the main thread): the same ConfigError and message as on the main thread.
    const data = bookData({ book: 'gutenberg/markovify/sherlock.txt', validationEvery: 10, limit: 14, noValidation: true });
    const bad = { data, vocabSize: 100, special: { pad: 0, eos: 1 } };
    const onMain = await train(options(await tempDir(), { ...bad, loader: 'main' })).catch((e: unknown) => e);
    const onThread = await train(options(await tempDir(), bad)).catch((e: unknown) => e);
    expect(onMain).toBeInstanceOf(ConfigError);
    expect(onThread).toBeInstanceOf(ConfigError);
    expect((onThread as ConfigError).message).toBe((onMain as ConfigError).message);
    expect((onThread as ConfigError).key).toBe('vocabSize');
    expect((onThread as ConfigError).message).toMatch(/^vocabSize=100 is invalid: .* id \d+/);
  });

  it('refuses a vocabulary that does not hold the data or the special tokens', async () => {
    await expect(train(options(await tempDir(), { vocabSize: 100, special: { pad: 0, eos: 1 } }))).rejects.toThrow(/vocabSize=100.*id \d+/);
    await expect(train(options(await tempDir(), { vocabSize: 256 }))).rejects.toBeInstanceOf(ConfigError);
  });

  it('stops on a non-finite loss with NonFiniteLossError naming the step and the last good checkpoint', async () => {
    // clm whose loss becomes NaN on the 6th forward pass: a real objective through the contract.
    const base = clm();
    let calls = 0;
    const poisoned: Objective = {
      ...base,
      head: (ctx) => {
        const head = base.head(ctx);
        return {
          ...head,
          forward: (fctx) => {
            const out = head.forward(fctx);
            if (fctx.training && ++calls === 6) return { ...out, sums: { lm: ctx.tf.mul(out.sums['lm']!, NaN) as typeof out.sums['lm'] } };
            return out;
          },
        };
      },
    };
    const dir = await tempDir();
    const error = await train(options(dir, { objectives: [poisoned], checkpointEvery: 4, evalEvery: 100 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const e = error as NonFiniteLossError;
    expect(e.step).toBe(6);
    expect(e.lastCheckpoint).toBe(path.join(dir, 'checkpoints', 'step-4'));
    expect(e.message).toMatch(/step 6/);
    expect(await readdir(path.join(dir, 'checkpoints'))).toEqual(['step-4']);
  });

  it('fits warmup, decay and intervals to a time budget', async () => {
    // No timing assertions (the machine may be loaded): only that the plan is consistent and the run ends by itself.
    const out = await tempDir();
    const result = await train(options(out, { maxSteps: 100_000, maxSeconds: 6, evalEvery: undefined, logEvery: undefined, checkpointEvery: undefined, warmupSteps: undefined }));
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(config.planSteps).toBeGreaterThanOrEqual(1);
    expect(config.planSteps).toBeLessThan(100_000);
    expect(config.warmupSteps).toBe(Math.min(200, Math.ceil(config.planSteps * 0.05)));
    expect(config.logEvery).toBe(Math.max(1, Math.floor(config.planSteps / 200)));
    expect(result.steps).toBeLessThan(100_000);
    const rows = await readRows(result.metricsFile);
    const trainRows = rows.filter((r) => r['split'] === undefined);
    expect(trainRows.at(-1)!['step']).toBe(result.steps);
    // Validation at step 0 and at the last step.
    expect(rows.filter((r) => r['split'] === 'val').map((r) => r['step'])).toContain(result.steps);
    // Every learning rate lies on the schedule: at most the peak, at least the 10% floor after warmup.
    for (const r of trainRows) {
      expect(r['lr'] as number).toBeLessThanOrEqual(3e-3 + 1e-12);
      if ((r['step'] as number) > config.warmupSteps) expect(r['lr'] as number).toBeGreaterThanOrEqual(3e-4 - 1e-12);
    }
  });

  it('rejects an objective mix without a builder or a model of the wrong architecture', async () => {
    await expect(train(options(await tempDir(), { model: 'bert-tiny' }))).rejects.toThrow(/model\.architecture/);
    await expect(train(options(await tempDir(), { seqLen: 64 }))).rejects.toThrow(/maxPositions=32/);
  });
});

export type { TokenizedDocument };

import { mkdtemp, readFile, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardIntegrityError } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { writeTokenizedDocuments } from '@pretext/shards';
import { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments } from '@pretext/test-fixtures';
import { train, type TrainOptions, type TrainData } from '@pretext/trainer';
import { tokenShardData } from './data.js';

let dir: string;
let shards: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pretext-loader-'));
  shards = join(dir, 'tokens');
  // A real book, byte-level, in several small shards.
  await writeTokenizedDocuments(bookDocuments('gutenberg/markovify/sherlock.txt', 120), { outDir: shards, vocabSize: BYTE_VOCAB, maxShardTokens: 8000 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options = (data: TrainData, outDir: string, loader: 'main' | 'thread'): TrainOptions => ({
  objectives: [clm()],
  data,
  vocabSize: BYTE_VOCAB,
  special: BYTE_SPECIAL,
  model: { architecture: 'decoder', dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxPositions: 32, dropout: 0 },
  outDir,
  seqLen: 32,
  batchSize: 4,
  maxSteps: 4,
  evalEvery: 2,
  evalBatches: 1,
  checkpointEvery: 4,
  shuffleBuffer: 16,
  seed: 3,
  workers: 1,
  loader,
});

describe('token shards on the loader thread', () => {
  it('rebuild the same data in the thread (same losses), and a damaged shard stops the run with the one-line error naming it', async () => {
    const data = await tokenShardData(shards, { validationFraction: 0.05, seed: 3 });
    expect(data.origin).toMatchObject({ export: 'tokenShardDataFrom', options: { dir: shards, validationFraction: 0.05, seed: 3 } });
    const main = await train(options(data, join(dir, 'main'), 'main'));
    const thread = await train(options(data, join(dir, 'thread'), 'thread'));
    expect(thread.loader.mode).toBe('thread');
    const losses = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).loss as number);
    const expected = await losses(main.metricsFile);
    expect(expected).toHaveLength(4 + 3);
    expect(await losses(thread.metricsFile)).toEqual(expected);

    // A shard cut short after the main thread read the data: the thread reads it again and fails.
    const file = (await readdir(shards)).filter((f) => f.endsWith('.arrow')).sort()[1]!;
    await truncate(join(shards, file), 100);
    const onMain = await tokenShardData(shards, { validationFraction: 0.05, seed: 3 }).catch((e: unknown) => e);
    expect(onMain).toBeInstanceOf(ShardIntegrityError);
    const error = await train(options(data, join(dir, 'bad'), 'thread')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardIntegrityError);
    expect((error as ShardIntegrityError).file).toBe(join(shards, file));
    expect((error as Error).message).toBe((onMain as Error).message);
    expect((error as Error).message).not.toContain('\n');
  });
});

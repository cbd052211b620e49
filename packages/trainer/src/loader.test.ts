import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ShardIntegrityError, composeObjectives, type Batch } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { BYTE_SPECIAL, BYTE_VOCAB } from '@pretext/test-fixtures';
import { bookData } from './book-data.test-helper.js';
import { ExampleStream, MainThreadBatches, type DataPosition } from './data.js';
import { LoaderThread, type LoaderInit } from './loader.js';

const data = bookData({ book: 'gutenberg/markovify/sherlock.txt', validationEvery: 10, limit: 14 });
const objective = clm();
const settings = { seqLen: 32, vocabSize: BYTE_VOCAB, special: BYTE_SPECIAL, seed: 11, shuffleBuffer: 16 };
const init = (position: DataPosition, prefetch: number): LoaderInit => ({
  ...settings,
  objectives: [{ origin: objective.origin!, weight: 1 }],
  data: data.origin!,
  batchSize: 8,
  position,
  prefetch,
});

async function take(source: MainThreadBatches | LoaderThread, n: number): Promise<{ batches: Batch[]; positions: DataPosition[] }> {
  const batches: Batch[] = [];
  const positions: DataPosition[] = [];
  for (let i = 0; i < n; i++) {
    batches.push(await source.next());
    positions.push(source.position());
  }
  return { batches, positions };
}

describe('LoaderThread', () => {
  it('hands out the main thread’s batches and positions, stays within its prefetch, and starts at a saved position', async () => {
    const main = new MainThreadBatches(new ExampleStream({ ...settings, composition: composeObjectives([objective]), data }), 8, BYTE_VOCAB);
    const expected = await take(main, 10); // 80 examples: over two epochs of 34
    await main.close();
    expect(expected.positions.at(-1)).toEqual({ epoch: 2, consumed: 12 });

    const loader = LoaderThread.start(init({ epoch: 0, consumed: 0 }, 2));
    try {
      const first = await take(loader, 4);
      // Time enough for a thread that ignored its credits to run far ahead; this one holds at most 2.
      await sleep(300);
      expect(loader.buffered).toBeLessThanOrEqual(2);
      const rest = await take(loader, 6);
      const got = { batches: [...first.batches, ...rest.batches], positions: [...first.positions, ...rest.positions] };
      expect(got.positions).toEqual(expected.positions);
      expect(got.batches).toEqual(expected.batches);
      expect(loader.times.batches).toBe(10);
    } finally {
      await loader.close();
    }

    // From the position after batch 5 (inside the second epoch) the thread continues with batch 6.
    const resumed = LoaderThread.start(init(expected.positions[4]!, 3));
    try {
      const got = await take(resumed, 5);
      expect(got.batches).toEqual(expected.batches.slice(5));
      expect(got.positions).toEqual(expected.positions.slice(5));
    } finally {
      await resumed.close();
    }
  });
});

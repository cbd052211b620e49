import { describe, expect, it } from 'vitest';
import { ConfigError, type TokenizedDocument } from '@pretext/core';
import { bookDocuments, stream } from '@pretext/test-fixtures';
import { bookData } from './book-data.test-helper.js';
import { dataFromOrigin, mixData } from './data.js';

const a = bookDocuments('gutenberg/markovify/sherlock.txt').map((d) => ({ ...d, id: `sherlock/${d.id}` }));
const b = bookDocuments('gutenberg/ebookmaker/69030-0.txt').map((d) => ({ ...d, id: `ebook/${d.id}` }));

async function collect(it: AsyncIterable<TokenizedDocument>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of it) out.push(d.id);
  return out;
}

describe('mixData', () => {
  it('draws by weight while both sources last, reads every document once, and is seeded', async () => {
    const mixed = mixData([{ data: { train: () => stream(a), validation: () => stream(a.slice(0, 3)) }, weight: 3 }, { data: { train: () => stream(b) }, weight: 1 }], 5);
    const ids = await collect(mixed.train(0));
    expect(ids.length).toBe(a.length + b.length);
    expect(new Set(ids).size).toBe(ids.length);
    // Order within a source is kept.
    expect(ids.filter((id) => id.startsWith('sherlock/'))).toEqual(a.map((d) => d.id));
    // In the first 400 draws (both sources still have documents: 220 and 2604) the share of the first is 3/4
    // within 4 standard errors.
    const n = 400;
    const share = ids.slice(0, n).filter((id) => id.startsWith('sherlock/')).length / n;
    expect(Math.abs(share - 0.75)).toBeLessThan(4 * Math.sqrt((0.75 * 0.25) / n));
    expect(await collect(mixed.train(0))).toEqual(ids);
    expect(await collect(mixed.train(1))).not.toEqual(ids);
    expect(await collect(mixed.validation!())).toEqual(a.slice(0, 3).map((d) => d.id));
    expect(() => mixData([{ data: { train: () => stream(a) }, weight: 0 }])).toThrow(ConfigError);
  });
});

describe('data origins', () => {
  it('rebuild the same documents, and a mix of sources with origins has one too', async () => {
    const sherlock = bookData({ book: 'gutenberg/markovify/sherlock.txt', validationEvery: 10 });
    const ebook = bookData({ book: 'gutenberg/ebookmaker/69030-0.txt', validationEvery: 10 });
    const mixed = mixData([{ data: sherlock, weight: 3 }, { data: ebook, weight: 1 }], 5);
    expect(mixed.origin).toBeDefined();
    // The origin crosses a thread boundary: a structured clone.
    const rebuilt = await dataFromOrigin(structuredClone(mixed.origin!));
    // Document ids repeat across the two books: compare the token streams.
    const tokens = async (it: AsyncIterable<TokenizedDocument>) => {
      let n = 0;
      let hash = 0;
      for await (const d of it) for (const id of d.ids) hash = (Math.imul(hash, 31) + id + ++n) >>> 0;
      return [n, hash];
    };
    expect(await tokens(rebuilt.train(1))).toEqual(await tokens(mixed.train(1)));
    expect(await tokens(rebuilt.validation!())).toEqual(await tokens(mixed.validation!()));
    // Without an origin on every source, the mix has none (the trainer then builds batches on the main thread).
    expect(mixData([{ data: sherlock, weight: 1 }, { data: { train: () => stream(b) }, weight: 1 }]).origin).toBeUndefined();
    await expect(dataFromOrigin({ module: sherlock.origin!.module, export: 'nope', options: {} })).rejects.toThrow(/^data origin=.*#nope" is invalid: expected an exported function/);
  });
});

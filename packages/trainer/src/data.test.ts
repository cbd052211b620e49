import { describe, expect, it } from 'vitest';
import { ConfigError, type TokenizedDocument } from '@pretext/core';
import { bookDocuments, stream } from '@pretext/test-fixtures';
import { mixData } from './data.js';

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

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng, type TokenizedDocument } from '@pretext/core';
import type { TrainOptions, TrainResult } from '@pretext/trainer';
import { streamDocuments, type FixtureCorpus } from './corpus.js';

/** A short training run on a fixture corpus: everything `train` takes except the data and the run folder. */
export type FixtureRunOptions = Omit<TrainOptions, 'data' | 'outDir' | 'vocabSize' | 'special'> & {
  readonly corpus: FixtureCorpus;
  /** Every `validationEvery`-th document is held out. Default 10. */
  readonly validationEvery?: number;
};

export interface FixtureRun {
  readonly result: TrainResult;
  /** Every `metrics.jsonl` row with `split: "val"`, in order. */
  readonly validation: readonly Record<string, number | string>[];
  readonly first: Record<string, number | string>;
  readonly last: Record<string, number | string>;
}

/**
 * Trains with `@pretext/trainer` on a fixture corpus written to token shards and read back (`@pretext/shards`), and
 * returns the validation rows; both are optional peer dependencies, loaded on first use, and the folder is removed
 * afterwards. Training documents come in a new seeded order every epoch, as `pretext train` feeds token shards:
 * objectives that draw from neighbouring documents (nsp, sop) would otherwise see only the same book around each
 * document.
 */
export async function trainOnFixture(options: FixtureRunOptions): Promise<FixtureRun> {
  const { corpus, validationEvery = 10, ...rest } = options;
  const { train } = await import('@pretext/trainer');
  const { writeTokenizedDocuments, readTokenizedDocuments } = await import('@pretext/shards');
  const seed = rest.seed ?? 0;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-fixture-run-'));
  try {
    // Through real token shards, as `pretext tokenize` writes them and `pretext train` reads them.
    const split = async (name: string, keep: (i: number) => boolean): Promise<TokenizedDocument[]> => {
      const shards = path.join(dir, name);
      await writeTokenizedDocuments(corpus.documents.filter((_, i) => keep(i)), { outDir: shards, vocabSize: corpus.vocabSize });
      const docs: TokenizedDocument[] = [];
      for await (const doc of readTokenizedDocuments(shards, { verify: true })) docs.push(doc);
      return docs;
    };
    const trainDocs = await split('train', (i) => i % validationEvery !== 0);
    const valDocs = await split('validation', (i) => i % validationEvery === 0);
    const outDir = path.join(dir, 'run');
    const result = await train({
      ...rest,
      data: {
        train: (epoch) => streamDocuments(new Rng(seed * 7919 + epoch + 1).shuffle([...trainDocs])),
        validation: () => streamDocuments(valDocs),
      },
      vocabSize: corpus.vocabSize,
      special: corpus.special,
      outDir,
    });
    const validation = (await readFile(result.metricsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, number | string>)
      .filter((row) => row['split'] === 'val');
    return { result, validation, first: validation[0]!, last: validation[validation.length - 1]! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

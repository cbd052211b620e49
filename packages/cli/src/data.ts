import path from 'node:path';
import { Rng, seedFromString, type TokenizedDocument } from '@pretext/core';
import { readManifest, readTokenizedDocuments } from '@pretext/shards';
import type { TrainData } from '@pretext/trainer';

export interface ShardDataOptions {
  /** Fraction of documents held out for validation, chosen by a hash of the document id (stable across runs). */
  validationFraction: number;
  seed: number;
  /** Corpora up to this many tokens are shuffled globally in memory each epoch; larger ones stream in shard order. */
  inMemoryTokens?: number;
}

/**
 * Turns a folder of token shards into the trainer's data: a deterministic held-out split by document id, and a
 * seeded document order per epoch.
 */
export async function tokenShardData(dir: string, options: ShardDataOptions): Promise<TrainData & { trainTokens: number; validationTokens: number; documents: number }> {
  // The trainer's loader thread rebuilds the same data (same split, same per-epoch order) from this.
  const origin = { module: import.meta.url, export: 'tokenShardDataFrom', options: { ...options, dir: path.resolve(dir) } };
  const manifest = await readManifest(dir);
  const threshold = Math.round(options.validationFraction * 1_000_000);
  const isValidation = (id: string) => seedFromString(id, options.seed) % 1_000_000 < threshold;
  const totalTokens = Number((manifest.stats as { tokens?: number } | undefined)?.tokens ?? Number.POSITIVE_INFINITY);
  const limit = options.inMemoryTokens ?? 50_000_000;

  const train: TokenizedDocument[] = [];
  const validation: TokenizedDocument[] = [];
  let trainTokens = 0;
  let validationTokens = 0;
  let documents = 0;
  if (totalTokens <= limit) {
    for await (const doc of readTokenizedDocuments(dir)) {
      documents++;
      if (isValidation(doc.id)) {
        validation.push(doc);
        validationTokens += doc.ids.length;
      } else {
        train.push(doc);
        trainTokens += doc.ids.length;
      }
    }
    // A small corpus can draw no validation document by hash: hold out the one with the smallest hash instead,
    // so a held-out loss always exists when there are at least two documents.
    if (validation.length === 0 && train.length >= 2 && threshold > 0) {
      let best = 0;
      for (let i = 1; i < train.length; i++) if (seedFromString(train[i]!.id, options.seed) < seedFromString(train[best]!.id, options.seed)) best = i;
      const [doc] = train.splice(best, 1);
      validation.push(doc!);
      validationTokens += doc!.ids.length;
      trainTokens -= doc!.ids.length;
    }
    return {
      trainTokens,
      validationTokens,
      documents,
      origin,
      async *train(epoch: number) {
        const order = new Rng(options.seed + 7919 * (epoch + 1)).shuffle(Array.from(train.keys()));
        for (const i of order) yield train[i]!;
      },
      async *validation() {
        yield* validation;
      },
    };
  }
  // Too large to hold: stream, filtering by the same split.
  for await (const doc of readTokenizedDocuments(dir)) {
    documents++;
    if (isValidation(doc.id)) validationTokens += doc.ids.length;
    else trainTokens += doc.ids.length;
  }
  return {
    trainTokens,
    validationTokens,
    documents,
    origin,
    async *train() {
      for await (const doc of readTokenizedDocuments(dir)) if (!isValidation(doc.id)) yield doc;
    },
    async *validation() {
      for await (const doc of readTokenizedDocuments(dir)) if (isValidation(doc.id)) yield doc;
    },
  };
}

/** `tokenShardData` with the folder among the options: what `TrainData.origin` names, for the loader thread. */
export function tokenShardDataFrom(options: ShardDataOptions & { dir: string }): ReturnType<typeof tokenShardData> {
  const { dir, ...rest } = options;
  return tokenShardData(dir, rest);
}

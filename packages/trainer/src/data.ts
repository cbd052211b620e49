import {
  ConfigError,
  EmptyInputError,
  Rng,
  collate,
  seedFromString,
  type Batch,
  type Composition,
  type Example,
  type SpecialTokens,
  type TokenizedDocument,
} from '@pretext/core';
import { importFactory } from './origins.js';

/**
 * Where a `TrainData` came from, so a loader thread can rebuild the same data: `module`'s export `export` called
 * with `options` (a structured-cloneable value) returns the data (or a promise of it). Like `ObjectiveOrigin`.
 */
export interface TrainDataOrigin {
  /** Package name or absolute file URL (`import.meta.url` of the module that exports the factory). */
  readonly module: string;
  /** Name of the exported factory; it takes `options` alone. */
  readonly export: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Where the training data comes from; the CLI builds this from token shards. */
export interface TrainData {
  /** Documents of one pass over the training set; called again with the next epoch number when it ends. */
  train: (epoch: number) => AsyncIterable<TokenizedDocument>;
  /** Held-out documents; the first `evalBatches · batchSize` examples are the fixed validation set. */
  validation?: () => AsyncIterable<TokenizedDocument>;
  /**
   * How to rebuild this data in another thread. With it (and objectives with origins) the trainer builds examples
   * on a loader thread ahead of the step; the rebuilt data must yield the same documents in the same order.
   */
  origin?: TrainDataOrigin;
}

/** Rebuilds data from its origin (in a loader thread). */
export async function dataFromOrigin(origin: TrainDataOrigin): Promise<TrainData> {
  const factory = await importFactory<TrainData | Promise<TrainData>>(origin.module, origin.export, 'data origin', 'an exported function that builds the training data from its options');
  const data = (await factory(origin.options)) as TrainData | undefined;
  if (!data || typeof data.train !== 'function') throw new ConfigError('data origin', `${origin.module}#${origin.export}`, 'a factory that returns { train(epoch), validation?() }');
  return data;
}

/** Exact position in the example stream: a resumed run replays the epoch's stream and skips `consumed` examples. */
export interface DataPosition {
  readonly epoch: number;
  readonly consumed: number;
}

export interface ExampleStreamOptions {
  readonly composition: Composition;
  readonly data: TrainData;
  readonly seqLen: number;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly seed: number;
  /** Examples held for shuffling (tf.data-style buffer). 1 disables shuffling. */
  readonly shuffleBuffer: number;
}

/**
 * The training example stream: documents → the composition's examples (seeded per epoch) → a seeded shuffle
 * buffer → examples, epoch after epoch. Everything random derives from `seed` and the epoch, so the stream is a
 * pure function of (seed, epoch, position) and a resume replays it exactly.
 */
export class ExampleStream {
  private iterator: AsyncIterator<Example> | null = null;
  private epoch = 0;
  private consumed = 0;

  constructor(private readonly options: ExampleStreamOptions) {
    if (!(Number.isInteger(options.shuffleBuffer) && options.shuffleBuffer >= 1)) throw new ConfigError('shuffleBuffer', options.shuffleBuffer, 'an integer >= 1');
  }

  position(): DataPosition {
    return { epoch: this.epoch, consumed: this.consumed };
  }

  /** Moves to a saved position by replaying that epoch's stream (cheap next to training). */
  async seek(position: DataPosition): Promise<void> {
    await this.close();
    this.epoch = position.epoch;
    this.consumed = 0;
    this.iterator = this.open(this.epoch);
    for (let i = 0; i < position.consumed; i++) {
      const r = await this.iterator.next();
      if (r.done) throw new ConfigError('resume data position', position, 'a position inside the data; the training data changed since the checkpoint');
      this.consumed++;
    }
  }

  /** The next `n` examples, starting new epochs as needed. */
  async take(n: number): Promise<Example[]> {
    const out: Example[] = [];
    let emptyEpochs = 0;
    while (out.length < n) {
      this.iterator ??= this.open(this.epoch);
      const r = await this.iterator.next();
      if (r.done) {
        if (this.consumed === 0 && ++emptyEpochs >= 1) {
          throw new EmptyInputError('training data', `epoch ${this.epoch} produced no examples`);
        }
        this.epoch++;
        this.consumed = 0;
        this.iterator = null;
        continue;
      }
      this.consumed++;
      out.push(r.value);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.iterator?.return?.();
    this.iterator = null;
  }

  private open(epoch: number): AsyncIterator<Example> {
    const { composition, data, seqLen, vocabSize, special, seed, shuffleBuffer } = this.options;
    const rng = new Rng(seedFromString(`examples/epoch-${epoch}`, seed));
    const examples = composition.examples(data.train(epoch), { seqLen, vocabSize, special, rng });
    const shuffled = shuffleBuffer > 1 ? shuffleStream(examples, shuffleBuffer, new Rng(seedFromString(`shuffle/epoch-${epoch}`, seed))) : examples;
    return shuffled[Symbol.asyncIterator]();
  }
}

/** Where the trainer's micro-batches come from: built on the main thread between steps, or on a loader thread. */
export interface BatchSource {
  /** The next micro-batch (collated and checked against the vocabulary). */
  next(): Promise<Batch>;
  /** The stream position right after the last batch handed out (what a checkpoint stores). */
  position(): DataPosition;
  readonly times: LoaderTimes;
  close(): Promise<void>;
}

export interface LoaderTimes {
  /** Seconds the trainer waited for its first batch (filling the pipeline; a loader thread's start-up). */
  startSeconds: number;
  /** Seconds the trainer waited for every later batch: time the step stood still for data. */
  waitSeconds: number;
  /** Seconds spent building and collating the handed-out batches, on whichever thread built them. */
  buildSeconds: number;
  batches: number;
}

/** Examples → one columnar batch, refusing ids outside the vocabulary. */
export function buildBatch(examples: readonly Example[], vocabSize: number): Batch {
  return checkBatch(collate(examples), vocabSize);
}

/** Batches built on the main thread when the trainer asks: the step waits for them. */
export class MainThreadBatches implements BatchSource {
  readonly times: LoaderTimes = { startSeconds: 0, waitSeconds: 0, buildSeconds: 0, batches: 0 };

  constructor(
    private readonly stream: ExampleStream,
    private readonly batchSize: number,
    private readonly vocabSize: number,
  ) {}

  async next(): Promise<Batch> {
    const t0 = performance.now();
    const batch = buildBatch(await this.stream.take(this.batchSize), this.vocabSize);
    const seconds = (performance.now() - t0) / 1000;
    if (this.times.batches++ === 0) this.times.startSeconds += seconds;
    else this.times.waitSeconds += seconds;
    this.times.buildSeconds += seconds;
    return batch;
  }

  position(): DataPosition {
    return this.stream.position();
  }

  close(): Promise<void> {
    return this.stream.close();
  }
}

/**
 * Rows `[start, end)` of every column: per-token columns hold `size · seqLen` values, per-row ones `size`.
 * (With seqLen 1 both strides are 1, so the two kinds cannot be confused.)
 */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const columns: Record<string, Int32Array | Uint8Array | Float32Array> = {};
  for (const [name, col] of Object.entries(batch.columns)) {
    const stride = col.length === batch.size ? 1 : batch.seqLen;
    columns[name] = col.slice(start * stride, end * stride);
  }
  return { size: end - start, seqLen: batch.seqLen, columns };
}

/** A micro-batch as `parts` data-parallel shares of ceil(size / parts) rows (empty shares are left out). */
export function splitBatch(batch: Batch, parts: number): Batch[] {
  if (parts === 1) return [batch];
  const size = Math.ceil(batch.size / parts);
  const out: Batch[] = [];
  for (let w = 0; w < parts; w++) {
    const start = w * size;
    const end = Math.min(batch.size, start + size);
    out.push(end > start ? sliceBatch(batch, start, end) : { size: 0, seqLen: batch.seqLen, columns: {} });
  }
  return out;
}

/** tf.data's shuffle buffer: fill `size` items, then emit a random one and put the next input in its place. */
async function* shuffleStream<T>(source: AsyncIterable<T>, size: number, rng: Rng): AsyncIterable<T> {
  const buffer: T[] = [];
  for await (const item of source) {
    if (buffer.length < size) {
      buffer.push(item);
      continue;
    }
    const j = rng.int(size);
    yield buffer[j]!;
    buffer[j] = item;
  }
  while (buffer.length > 0) {
    const j = rng.int(buffer.length);
    const item = buffer[j]!;
    buffer[j] = buffer[buffer.length - 1]!;
    buffer.pop();
    yield item;
  }
}

/** The fixed validation batches: the first `batches · batchSize` examples, unshuffled, with a fixed seed. */
export async function validationBatches(
  options: Omit<ExampleStreamOptions, 'shuffleBuffer'>,
  batchSize: number,
  batches: number,
): Promise<Batch[]> {
  const { composition, data, seqLen, vocabSize, special, seed } = options;
  if (!data.validation) return [];
  const rng = new Rng(seedFromString('examples/validation', seed));
  const examples: Example[] = [];
  const wanted = batchSize * batches;
  for await (const e of composition.examples(data.validation(), { seqLen, vocabSize, special, rng })) {
    examples.push(e);
    if (examples.length >= wanted) break;
  }
  const out: Batch[] = [];
  for (let i = 0; i < examples.length; i += batchSize) out.push(checkBatch(collate(examples.slice(i, i + batchSize)), vocabSize));
  return out;
}

/** Refuses token ids outside the model's vocabulary (a tokenizer that does not match the model). */
export function checkBatch(batch: Batch, vocabSize: number): Batch {
  const ids = batch.columns['input_ids'];
  if (!ids) throw new ConfigError('batch', Object.keys(batch.columns), 'an input_ids column');
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= vocabSize) {
      throw new ConfigError('vocabSize', vocabSize, `a vocabulary that holds every token id, but the data has id ${id}; use the tokenizer the shards were made with, or its vocabulary size`);
    }
  }
  return batch;
}

export interface WeightedData {
  readonly data: TrainData;
  /** Relative share of documents drawn from this source while every source still has documents. */
  readonly weight: number;
}

/**
 * Mixes several datasets into one: each next document comes from source i with probability ∝ weight_i (a seeded
 * draw per document, fixed by `seed` and the epoch); a source that runs out drops out and the others go on, so an
 * epoch still reads every document of every source once. Validation sets are concatenated in the given order.
 */
export function mixData(sources: readonly WeightedData[], seed = 0): TrainData {
  const mixed = mixSources(sources, seed);
  const origins = sources.map((s) => s.data.origin);
  // Rebuildable in a loader thread when every source is.
  if (origins.every((o) => o !== undefined)) {
    mixed.origin = { module: import.meta.url, export: 'mixDataFromOrigins', options: { sources: sources.map((s, i) => ({ origin: origins[i]!, weight: s.weight })), seed } };
  }
  return mixed;
}

/** `mixData` rebuilt from its origin's options (what a loader thread calls). */
export async function mixDataFromOrigins(options: { sources: readonly { origin: TrainDataOrigin; weight: number }[]; seed: number }): Promise<TrainData> {
  const sources: WeightedData[] = [];
  for (const s of options.sources) sources.push({ data: await dataFromOrigin(s.origin), weight: s.weight });
  return mixData(sources, options.seed);
}

function mixSources(sources: readonly WeightedData[], seed: number): TrainData {
  if (sources.length === 0) throw new ConfigError('data', [], 'at least one dataset');
  for (const [i, s] of sources.entries()) {
    if (!(typeof s.weight === 'number' && Number.isFinite(s.weight) && s.weight > 0)) throw new ConfigError(`data[${i}].weight`, s.weight, 'a positive number');
  }
  const withValidation = sources.filter((s) => s.data.validation);
  const mixed: TrainData = {
    async *train(epoch: number) {
      const rng = new Rng(seedFromString(`mix/epoch-${epoch}`, seed));
      const live = sources.map((s) => ({ it: s.data.train(epoch)[Symbol.asyncIterator](), weight: s.weight }));
      try {
        while (live.length > 0) {
          const total = live.reduce((a, s) => a + s.weight, 0);
          let r = rng.float() * total;
          let pick = live.length - 1;
          for (let i = 0; i < live.length; i++) {
            r -= live[i]!.weight;
            if (r < 0) {
              pick = i;
              break;
            }
          }
          const next = await live[pick]!.it.next();
          if (next.done) live.splice(pick, 1);
          else yield next.value;
        }
      } finally {
        for (const s of live) await s.it.return?.();
      }
    },
  };
  if (withValidation.length > 0) {
    mixed.validation = async function* () {
      for (const s of withValidation) yield* s.data.validation!();
    };
  }
  return mixed;
}

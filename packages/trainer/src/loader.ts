import type { Worker } from 'node:worker_threads';
import { ConfigError, reviveError, startWorker, type Batch, type SerializedError, type SpecialTokens } from '@pretext/core';
import type { PortableObjective } from './origins.js';
import type { BatchSource, DataPosition, LoaderTimes, TrainDataOrigin } from './data.js';

/**
 * The loader thread, main side. A worker thread rebuilds the objectives and the data from their origins, runs the
 * same `ExampleStream` (same seeds, so the same examples in the same order as on the main thread), collates
 * micro-batches and posts them here with their column buffers transferred (no copy). Backpressure by credits: the
 * worker may be at most `prefetch` batches ahead of what the trainer took; each batch taken returns one credit.
 */
export interface LoaderInit {
  readonly objectives: readonly PortableObjective[];
  readonly data: TrainDataOrigin;
  readonly seqLen: number;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly seed: number;
  readonly shuffleBuffer: number;
  readonly batchSize: number;
  /** Where the stream starts (a resumed run's saved position). */
  readonly position: DataPosition;
  /** Batches built ahead of the trainer. */
  readonly prefetch: number;
}

export type LoaderRequest = { readonly type: 'init'; readonly init: LoaderInit } | { readonly type: 'credit'; readonly n: number };

export type LoaderReply =
  | { readonly type: 'batch'; readonly batch: Batch; readonly position: DataPosition; readonly seconds: number }
  | { readonly type: 'error'; readonly error: SerializedError };

interface Item {
  readonly batch: Batch;
  readonly position: DataPosition;
  readonly seconds: number;
}

/** Micro-batches from a loader thread. */
export class LoaderThread implements BatchSource {
  readonly times: LoaderTimes = { startSeconds: 0, waitSeconds: 0, buildSeconds: 0, batches: 0 };
  private readonly queue: Item[] = [];
  private waiting: { resolve: (item: Item) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private current: DataPosition;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    position: DataPosition,
  ) {
    this.current = position;
    worker.on('message', (reply: LoaderReply) => {
      if (reply.type === 'batch') this.deliver({ batch: reply.batch, position: reply.position, seconds: reply.seconds });
      else this.fail(reviveError(reply.error, 'the loader thread'));
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new ConfigError('loader', 'thread', `a loader thread that keeps running, but it exited with code ${code}; rerun with loader: 'main'`));
    });
  }

  /** Starts the thread; it rebuilds objectives and data and begins filling the queue at once. */
  static start(init: LoaderInit): LoaderThread {
    if (!(Number.isInteger(init.prefetch) && init.prefetch >= 1)) throw new ConfigError('loaderPrefetch', init.prefetch, 'an integer >= 1');
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const loader = new LoaderThread(startWorker(new URL(`./loader-worker${ext}`, import.meta.url)), init.position);
    try {
      loader.worker.postMessage({ type: 'init', init } satisfies LoaderRequest);
    } catch (error) {
      void loader.close();
      throw new ConfigError('loader', 'thread', `objective and data origins whose options are plain data a thread can receive (${(error as Error).message}); or use loader: 'main'`);
    }
    return loader;
  }

  private deliver(item: Item): void {
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      w.resolve(item);
    } else {
      this.queue.push(item);
    }
  }

  private fail(error: Error): void {
    // Batches already built are still handed out, so the run stops at the same step as on the main thread.
    this.failure ??= error;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.failure);
  }

  async next(): Promise<Batch> {
    let item = this.queue.shift();
    if (!item) {
      if (this.failure) throw this.failure;
      const t0 = performance.now();
      item = await new Promise<Item>((resolve, reject) => {
        this.waiting = { resolve, reject };
      });
      const seconds = (performance.now() - t0) / 1000;
      if (this.times.batches === 0) this.times.startSeconds += seconds;
      else this.times.waitSeconds += seconds;
    }
    this.times.batches++;
    this.times.buildSeconds += item.seconds;
    this.current = item.position;
    if (!this.failure) this.worker.postMessage({ type: 'credit', n: 1 } satisfies LoaderRequest);
    return item.batch;
  }

  position(): DataPosition {
    return this.current;
  }

  /** Batches built and received but not yet taken. */
  get buffered(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

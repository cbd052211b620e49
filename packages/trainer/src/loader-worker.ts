import { parentPort } from 'node:worker_threads';
import { ConfigError, serializeError } from '@pretext/core';
import { ExampleStream, buildBatch, dataFromOrigin } from './data.js';
import { compositionFromOrigins } from './origins.js';
import { type LoaderInit, type LoaderReply, type LoaderRequest } from './loader.js';

/** The loader thread: builds micro-batches ahead of the trainer (see `LoaderThread`). */
const port = parentPort;
if (!port) throw new ConfigError('loader worker', 'main thread', 'a worker thread (start it with LoaderThread.start)');

let credits = 0;
let wake: (() => void) | null = null;

async function run(init: LoaderInit): Promise<void> {
  const composition = await compositionFromOrigins(init.objectives);
  const data = await dataFromOrigin(init.data);
  const stream = new ExampleStream({
    composition,
    data,
    seqLen: init.seqLen,
    vocabSize: init.vocabSize,
    special: init.special,
    seed: init.seed,
    shuffleBuffer: init.shuffleBuffer,
  });
  if (init.position.epoch !== 0 || init.position.consumed !== 0) await stream.seek(init.position);
  credits += init.prefetch;
  for (;;) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    const t0 = performance.now();
    const batch = buildBatch(await stream.take(init.batchSize), init.vocabSize);
    const seconds = (performance.now() - t0) / 1000;
    credits--;
    const reply: LoaderReply = { type: 'batch', batch, position: stream.position(), seconds };
    // Each column owns its buffer (collate allocates them), so they move to the main thread without a copy.
    port!.postMessage(reply, Object.values(batch.columns).map((c) => c.buffer as ArrayBuffer));
  }
}

port.on('message', (message: LoaderRequest) => {
  if (message.type === 'init') {
    run(message.init).catch((error: unknown) => port.postMessage({ type: 'error', error: serializeError(error) } satisfies LoaderReply));
  } else {
    credits += message.n;
    const w = wake;
    wake = null;
    w?.();
  }
});

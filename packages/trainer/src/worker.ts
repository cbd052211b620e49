import { parentPort } from 'node:worker_threads';
import { ConfigError } from '@pretext/core';
import { selectBackend } from './backend.js';
import { AdamW } from './optimizer.js';
import { compositionFromOrigins } from './origins.js';
import { applyHostGradients, gradsToHost, type WorkerReply, type WorkerRequest } from './parallel.js';
import { Session } from './session.js';

/** A data-parallel replica: rebuilds the objectives from their origins and the model from the same seed. */
let session: Session | null = null;
let optimizer: AdamW | null = null;

const port = parentPort;
if (!port) throw new ConfigError('worker', 'main thread', 'a worker thread (start it with ReplicaWorker.start)');

async function handle(message: WorkerRequest): Promise<WorkerReply | null> {
  switch (message.type) {
    case 'init': {
      const { init } = message;
      const { tf, name } = await selectBackend({ backend: init.backend });
      session = new Session({ tf, backend: name, composition: await compositionFromOrigins(init.objectives), model: init.model, vocabSize: init.vocabSize, seqLen: init.seqLen, seed: init.seed });
      optimizer = new AdamW(tf, session.store.list(), init.adam);
      return { type: 'ready' };
    }
    case 'state': {
      const s = session!;
      const o = optimizer!;
      const { tf } = s;
      for (const p of s.store.list()) {
        const set = (target: { assign(t: never): void }, values: Float32Array | undefined) => {
          if (!values) throw new ConfigError('worker state', p.name, 'a value for every parameter');
          const t = tf.tensor(values, p.variable.shape, 'float32');
          target.assign(t as never);
          t.dispose();
        };
        set(p.variable, message.weights[p.name]);
        set(o.m.get(p.name)!, message.m[p.name]);
        set(o.v.get(p.name)!, message.v[p.name]);
      }
      o.step = message.step;
      return { type: 'ready' };
    }
    case 'grads': {
      const r = session!.gradients(message.batches, message.step, { totals: message.totals, rank: message.rank });
      return { type: 'grads', loss: r.loss, sums: r.sums, metrics: r.metrics, grads: gradsToHost(r.grads, session!.tf) };
    }
    case 'apply': {
      applyHostGradients(session!.tf, optimizer!, session!.store.list(), message.grads, message.scale, message.lr);
      return null;
    }
    case 'sync':
      return { type: 'ready' };
  }
}

// Messages are handled strictly in order: an update must finish before the next step's gradients.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      const reply = await handle(message);
      if (reply?.type === 'grads') port.postMessage(reply, Object.values(reply.grads).map((g) => g.buffer as ArrayBuffer));
      else if (reply) port.postMessage(reply);
    } catch (error) {
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    }
  });
});

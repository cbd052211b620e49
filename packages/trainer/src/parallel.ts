import type { Worker } from 'node:worker_threads';
import { ConfigError, startWorker, type Batch, type TF, type Tensor } from '@pretext/core';
import type { PortableObjective } from './origins.js';
import type { BackendName } from './backend.js';
import type { ModelConfig, Parameter } from './model.js';
import type { AdamW, AdamWOptions } from './optimizer.js';
import type { Counts } from './session.js';

/**
 * Data parallelism over worker threads. tfjs' wasm backend runs one thread under Node, so a second core is used
 * by a second model replica: every step, each replica computes the gradient of its share of the examples
 * (normalised by the counts of the whole step, so the sum is exactly the full-batch gradient), the main thread
 * adds them, and both replicas apply the same AdamW update to the same summed gradient, which keeps their weights
 * bit-for-bit equal without sending weights around.
 */
export interface WorkerInit {
  readonly backend: BackendName;
  readonly model: Required<ModelConfig>;
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly seed: number;
  readonly objectives: readonly PortableObjective[];
  readonly adam: AdamWOptions;
}

export interface WorkerGradients {
  readonly loss: number;
  readonly sums: Record<string, number>;
  readonly metrics: Record<string, { sum: number; count: number }>;
  readonly grads: Record<string, Float32Array>;
}

export type WorkerRequest =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | { readonly type: 'state'; readonly weights: Record<string, Float32Array>; readonly m: Record<string, Float32Array>; readonly v: Record<string, Float32Array>; readonly step: number }
  | { readonly type: 'grads'; readonly batches: Batch[]; readonly totals: Counts; readonly step: number; readonly rank: number }
  | { readonly type: 'apply'; readonly grads: Record<string, Float32Array>; readonly scale: number; readonly lr: number }
  | { readonly type: 'sync' };

export type WorkerReply =
  | { readonly type: 'ready' }
  | ({ readonly type: 'grads' } & WorkerGradients)
  | { readonly type: 'error'; readonly message: string };

/** Reads every parameter's gradient into host arrays (and disposes the tensors). */
export function gradsToHost(grads: Map<string, Tensor>, tf?: TF): Record<string, Float32Array> {
  // tfjs-wasm's dataSync copies out of the heap into a new buffer of its own, which can be kept and transferred as
  // it is; the cpu backend returns the tensor's own storage, so other backends get a copy. (Copying twice on wasm
  // took 40–170 ms of the main thread per step at d256 × 4 layers, 21 MB of gradients.)
  const owned = tf?.getBackend() === 'wasm';
  const out: Record<string, Float32Array> = {};
  for (const [name, g] of grads) {
    const values = g.dataSync() as Float32Array;
    out[name] = owned ? values : new Float32Array(values);
    g.dispose();
  }
  return out;
}

/** `into[i] += from[i]`: one monomorphic loop, so V8 optimises it for the 5 M floats of a step's gradients. */
export function addInto(into: Float32Array, from: Float32Array): void {
  for (let i = 0, n = from.length; i < n; i++) into[i]! += from[i]!;
}

/** Σ x², accumulated in float64. */
export function sumOfSquares(x: Float32Array): number {
  let sq = 0;
  for (let i = 0, n = x.length; i < n; i++) sq += x[i]! * x[i]!;
  return sq;
}

/**
 * The update both replicas run: host gradients → tensors, then AdamW with the clipping factor applied to the
 * gradients. The same inputs give the same float operations on every replica.
 */
export function applyHostGradients(tf: TF, optimizer: AdamW, params: readonly Parameter[], grads: Record<string, Float32Array>, scale: number, lr: number): void {
  const tensors = hostGradientTensors(tf, params, grads);
  optimizer.apply(tensors, lr, scale);
  for (const t of tensors.values()) t.dispose();
}

/**
 * Host gradients as tensors (copies): after this the host arrays may be transferred to a replica while this thread
 * runs its own AdamW update. The clipping factor goes to `AdamW.apply`, which scales inside its update.
 */
export function hostGradientTensors(tf: TF, params: readonly Parameter[], grads: Record<string, Float32Array>): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const p of params) {
    const g = grads[p.name];
    if (g) tensors.set(p.name, tf.tensor(g, p.variable.shape, 'float32'));
  }
  return tensors;
}

/** A model replica in a worker thread. */
export class ReplicaWorker {
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending;
      this.pending = null;
      if (reply.type === 'error') {
        const error = new ConfigError('workers', 2, `a worker replica that runs: ${reply.message}`);
        if (p) p.reject(error);
        else this.failure = error;
      } else {
        p?.resolve(reply);
      }
    });
    worker.on('error', (error) => {
      this.failure = error;
      this.pending?.reject(error);
      this.pending = null;
    });
  }

  static async start(init: WorkerInit): Promise<ReplicaWorker> {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const replica = new ReplicaWorker(startWorker(new URL(`./worker${ext}`, import.meta.url)));
    await replica.request({ type: 'init', init });
    return replica;
  }

  private request(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message, transfer);
    });
  }

  /** Resolves once the replica has handled every earlier message (an `apply` runs without a reply). */
  async idle(): Promise<void> {
    await this.request({ type: 'sync' });
  }

  /** Copies the main replica's weights and optimizer state (at the start and after a resume). */
  async setState(params: readonly Parameter[], optimizer: AdamW): Promise<void> {
    const weights: Record<string, Float32Array> = {};
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const p of params) {
      weights[p.name] = Float32Array.from(p.variable.dataSync() as Float32Array);
      m[p.name] = Float32Array.from(optimizer.m.get(p.name)!.dataSync() as Float32Array);
      v[p.name] = Float32Array.from(optimizer.v.get(p.name)!.dataSync() as Float32Array);
    }
    await this.request({ type: 'state', weights, m, v, step: optimizer.step });
  }

  /** Starts the replica's share of a step; resolves with its gradients. */
  gradients(batches: Batch[], totals: Counts, step: number, rank: number): Promise<WorkerGradients> {
    return this.request({ type: 'grads', batches, totals, step, rank }).then((r) => r as WorkerGradients);
  }

  /**
   * Sends the summed gradients for the replica's AdamW update. With `transfer` the arrays move to the worker without
   * a copy and are unusable here afterwards (structured-cloning 21 MB took ~100 ms of the main thread per step at
   * d256 × 4 layers).
   */
  apply(grads: Record<string, Float32Array>, scale: number, lr: number, transfer = false): void {
    if (this.failure) throw this.failure;
    const message = { type: 'apply', grads, scale, lr } satisfies WorkerRequest;
    if (transfer) this.worker.postMessage(message, Object.values(grads).map((g) => g.buffer as ArrayBuffer));
    else this.worker.postMessage(message);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

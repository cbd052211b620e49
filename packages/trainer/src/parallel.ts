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
export function gradsToHost(grads: Map<string, Tensor>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, g] of grads) {
    // A copy with its own buffer: it may be transferred to another thread, and on the cpu backend dataSync returns
    // the tensor's own storage.
    out[name] = new Float32Array(g.dataSync() as Float32Array);
    g.dispose();
  }
  return out;
}

/**
 * The update both replicas run: host gradients → tensors, scaled by the clipping factor, then AdamW. The same
 * inputs give the same float operations on every replica.
 */
export function applyHostGradients(tf: TF, optimizer: AdamW, params: readonly Parameter[], grads: Record<string, Float32Array>, scale: number, lr: number): void {
  const tensors = hostGradientTensors(tf, params, grads, scale);
  optimizer.apply(tensors, lr);
  for (const t of tensors.values()) t.dispose();
}

/**
 * Host gradients as tensors (copies), scaled by the clipping factor: after this the host arrays may be transferred
 * to a replica while this thread runs its own AdamW update.
 */
export function hostGradientTensors(tf: TF, params: readonly Parameter[], grads: Record<string, Float32Array>, scale: number): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const p of params) {
    const g = grads[p.name];
    if (!g) continue;
    const t = tf.tensor(g, p.variable.shape, 'float32');
    if (scale !== 1) {
      tensors.set(p.name, tf.mul(t, scale));
      t.dispose();
    } else {
      tensors.set(p.name, t);
    }
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

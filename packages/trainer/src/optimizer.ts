import type { TF, Tensor, Variable } from '@pretext/core';
import { wasmAdamWUpdate, type AdamWUpdate } from './heap-kernels.js';
import type { Parameter } from './model.js';

export type Schedule = 'cosine' | 'linear' | 'constant';

export interface ScheduleOptions {
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** The step at which decay ends (usually maxSteps). */
  readonly totalSteps: number;
  readonly schedule: Schedule;
  /** Floor of the decay as a fraction of the peak (nanoGPT and Chinchilla decay to 10%). */
  readonly minRatio: number;
}

/**
 * Learning rate for the update that completes `step` (1-based): linear warmup from lr/warmup to lr over `warmupSteps`,
 * then cosine or linear decay to `minRatio·lr` at `totalSteps`.
 */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  if (o.warmupSteps > 0 && step <= o.warmupSteps) return (o.learningRate * step) / o.warmupSteps;
  if (o.schedule === 'constant') return o.learningRate;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - o.warmupSteps) / span));
  const min = o.learningRate * o.minRatio;
  const factor = o.schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return min + (o.learningRate - min) * factor;
}

export interface AdamWOptions {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}

/**
 * AdamW (Loshchilov & Hutter), PyTorch's formulation: `p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + ε)`, decay only on
 * parameters marked `decay` (matrices and embedding tables; not biases or LayerNorm).
 */
export class AdamW {
  readonly m = new Map<string, Variable>();
  readonly v = new Map<string, Variable>();
  /** Number of updates applied so far (bias correction uses it). */
  step = 0;
  /** On wasm, the whole update of a parameter as one kernel (heap-kernels.wat), with the same float32 results. */
  private readonly fused: AdamWUpdate | null;

  constructor(private readonly tf: TF, private readonly params: readonly Parameter[], readonly options: AdamWOptions) {
    this.fused = tf.getBackend() === 'wasm' ? wasmAdamWUpdate(tf) : null;
    for (const p of params) {
      this.m.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
      this.v.set(p.name, tf.variable(tf.zerosLike(p.variable), false));
    }
  }

  /**
   * Applies one update with `grads` at learning rate `lr`; `gradScale` (a clipping factor) multiplies the gradients
   * first, inside the update.
   */
  apply(grads: ReadonlyMap<string, Tensor>, lr: number, gradScale = 1): void {
    const { tf } = this;
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const p of this.params) {
        const raw = grads.get(p.name);
        if (!raw) continue; // a parameter no objective used this step
        const m = this.m.get(p.name)!;
        const v = this.v.get(p.name)!;
        const decay = p.decay && weightDecay > 0 ? 1 - lr * weightDecay : 1;
        if (this.fused && raw.dtype === 'float32' && p.variable.dtype === 'float32') {
          const k = { scale: gradScale, b1: beta1, c: 1 - beta1, b2: beta2, e: 1 - beta2, lrc1: lr / c1, c2, eps: epsilon, decay };
          const [p1, m1, v1] = this.fused(p.variable, raw, m, v, k);
          m.assign(m1);
          v.assign(v1);
          p.variable.assign(p1);
          continue;
        }
        const g = gradScale !== 1 ? tf.mul(raw, gradScale) : raw;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(m1);
        v.assign(v1);
        const update = tf.div(tf.mul(m1, lr / c1), tf.add(tf.sqrt(tf.div(v1, c2)), epsilon));
        const decayed = decay !== 1 ? tf.mul(p.variable, decay) : p.variable;
        p.variable.assign(tf.sub(decayed, update));
      }
    });
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
  }
}

/** Global L2 norm of all gradients (one device→host read). */
export function globalNorm(tf: TF, grads: ReadonlyMap<string, Tensor>): number {
  const sq = tf.tidy(() => {
    let total: Tensor = tf.scalar(0);
    for (const g of grads.values()) total = tf.add(total, tf.sum(tf.square(g)));
    return total;
  });
  const value = Math.sqrt(sq.dataSync()[0]!);
  sq.dispose();
  return value;
}

/** Scales gradients in place (disposing the old ones) so their global norm is at most `maxNorm`. */
export function clipByGlobalNorm(tf: TF, grads: Map<string, Tensor>, norm: number, maxNorm: number): void {
  if (!(maxNorm > 0) || !(norm > maxNorm)) return;
  const scale = maxNorm / (norm + 1e-6);
  for (const [name, g] of grads) {
    grads.set(name, tf.mul(g, scale));
    g.dispose();
  }
}

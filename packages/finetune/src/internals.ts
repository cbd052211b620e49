import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigError,
  type Backbone,
  type Batch,
  type Composition,
  type ModelInfo,
  type TF,
  type Tensor,
  type Variable,
} from '@pretext/core';
import type { BackendName, ModelConfig } from '@pretext/trainer';

/**
 * The parts of `@pretext/trainer` that fine-tuning needs but the trainer does not export yet: its `Session` (the
 * backbone built exactly as for pre-training, with the plugin contract's heads), `AdamW` and global-norm clipping.
 *
 * Why not a copy: the model must be the one the checkpoint was trained with (same parameter names, layer norms,
 * initialisation, wasm-tuned ops), so fine-tuning loads the trainer's own modules from its package folder (`src/`
 * when running from sources, `dist/` otherwise). The interfaces below are the structural subset used here; every test
 * that builds a model (finetune.test.ts) fails when the trainer moves or renames them. Once the trainer exports these, this file
 * becomes plain imports.
 */

export interface Parameter {
  readonly name: string;
  readonly variable: Variable;
  readonly decay: boolean;
}

export interface ParameterStore {
  list(): Parameter[];
  get(name: string): Variable;
  count(): number;
}

export interface GradientResult {
  readonly loss: number;
  readonly sums: Record<string, number>;
  readonly counts: Record<string, number>;
  readonly metrics: Record<string, { sum: number; count: number }>;
  readonly grads: Map<string, Tensor>;
}

export interface Session {
  readonly store: ParameterStore;
  readonly backbone: Backbone;
  readonly modelInfo: ModelInfo;
  readonly tf: TF;
  gradients(batches: readonly Batch[], step: number, options?: { training?: boolean }): GradientResult;
  evaluate(batches: readonly Batch[]): { loss: number; values: Record<string, number> };
  dispose(): void;
}

export interface SessionOptions {
  readonly tf: TF;
  readonly backend: BackendName;
  readonly composition: Composition;
  readonly model: Required<ModelConfig>;
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly seed: number;
}

export interface AdamW {
  readonly m: Map<string, Variable>;
  readonly v: Map<string, Variable>;
  step: number;
  apply(grads: ReadonlyMap<string, Tensor>, lr: number): void;
  dispose(): void;
}

export interface TrainerInternals {
  Session: new (options: SessionOptions) => Session;
  AdamW: new (tf: TF, params: readonly Parameter[], options: { beta1: number; beta2: number; epsilon: number; weightDecay: number }) => AdamW;
  globalNorm(tf: TF, grads: ReadonlyMap<string, Tensor>): number;
  clipByGlobalNorm(tf: TF, grads: Map<string, Tensor>, norm: number, maxNorm: number): void;
  /** Where the modules were loaded from (for messages and tests). */
  readonly from: string;
}

let cached: Promise<TrainerInternals> | null = null;

/** Loads the trainer's Session, AdamW and clipping from the installed `@pretext/trainer`. */
export function trainerInternals(): Promise<TrainerInternals> {
  cached ??= load();
  return cached;
}

async function load(): Promise<TrainerInternals> {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('@pretext/trainer/package.json'));
  // Match how `@pretext/trainer` itself resolved: sources under the `@pretext/source` condition (tests, tsx), the
  // build otherwise; mixing them would load two copies of @pretext/core (two sets of error classes).
  const fromSource = import.meta.url.endsWith('.ts');
  const dir = path.join(root, fromSource ? 'src' : 'dist');
  const ext = fromSource ? '.ts' : '.js';
  const file = (name: string) => {
    const f = path.join(dir, `${name}${ext}`);
    if (!existsSync(f)) {
      throw new ConfigError('@pretext/trainer', f, `a trainer that has ${name}${ext} (${fromSource ? 'its sources' : 'run `npx tsc -b` in packages/trainer'}); this @pretext/finetune needs the trainer's Session and AdamW`);
    }
    return pathToFileURL(f).href;
  };
  const session = (await import(file('session'))) as { Session?: TrainerInternals['Session'] };
  const optimizer = (await import(file('optimizer'))) as Partial<TrainerInternals>;
  if (!session.Session || !optimizer.AdamW || !optimizer.globalNorm || !optimizer.clipByGlobalNorm) {
    throw new ConfigError('@pretext/trainer', dir, 'a trainer whose session and optimizer modules export Session, AdamW, globalNorm and clipByGlobalNorm');
  }
  return { Session: session.Session, AdamW: optimizer.AdamW, globalNorm: optimizer.globalNorm, clipByGlobalNorm: optimizer.clipByGlobalNorm, from: dir };
}

import { mkdir, readFile, readdir, rename, rm, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, ManifestError, type Tensor } from '@pretext/core';
import type { DataPosition } from './data.js';
import type { AdamW } from './optimizer.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors.js';
import type { Session } from './session.js';

/** Everything besides tensors that a resumed run needs to continue exactly. */
export interface CheckpointState {
  readonly format: 'pretext-checkpoint';
  readonly version: 1;
  readonly step: number;
  readonly optimizerStep: number;
  /** Position in the training example stream; every random stream derives from (seed, epoch, step). */
  readonly data: DataPosition;
  readonly seed: number;
  /** Step at which the learning-rate decay ends (can be shortened by maxSeconds). */
  readonly scheduleSteps: number;
  /** Steps the run planned for (sets the default warmup and intervals); kept so a resume uses the same ones. */
  readonly planSteps: number;
  /** Evaluations the plan spread over the run (sets the default evalEvery). */
  readonly evalCount: number;
  /** The run's fingerprint: vocabulary, model, objectives, sequence and batch shape must match to resume. */
  readonly fingerprint: Record<string, unknown>;
  readonly train: { first: number | null };
  readonly validation: { first: number | null };
  readonly tokens: number;
  readonly elapsedSeconds: number;
}

export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'state.json';

function tensorOf(t: Tensor): NamedTensor {
  return { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array };
}

/**
 * Writes `checkpoints/step-N/` through a temporary folder renamed into place, so a killed run never leaves a
 * checkpoint that looks complete but is not; then keeps only the newest `keep`.
 */
export async function saveCheckpoint(
  root: string,
  session: Session,
  optimizer: AdamW,
  state: CheckpointState,
  keep: number,
): Promise<string> {
  await mkdir(root, { recursive: true });
  const final = path.join(root, `step-${state.step}`);
  const tmp = path.join(root, `.tmp-step-${state.step}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const weights = new Map<string, NamedTensor>();
  for (const p of session.store.list()) weights.set(p.name, tensorOf(p.variable));
  await writeSafetensors(path.join(tmp, MODEL_FILE), weights, { format: 'pt', producer: 'pretext', step: String(state.step) });
  const moments = new Map<string, NamedTensor>();
  for (const [name, m] of optimizer.m) moments.set(`m/${name}`, tensorOf(m));
  for (const [name, v] of optimizer.v) moments.set(`v/${name}`, tensorOf(v));
  await writeSafetensors(path.join(tmp, OPTIMIZER_FILE), moments, { optimizer: 'adamw', step: String(optimizer.step) });
  await writeFile(path.join(tmp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await pruneCheckpoints(root, keep);
  return final;
}

/** Complete checkpoints under `root`, oldest first. Temporary folders (a run killed mid-write) are ignored. */
export async function listCheckpoints(root: string): Promise<{ step: number; dir: string }[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const out: { step: number; dir: string }[] = [];
  for (const name of names) {
    const m = /^step-(\d+)$/.exec(name);
    if (!m) continue;
    const dir = path.join(root, name);
    try {
      await stat(path.join(dir, STATE_FILE));
      out.push({ step: Number(m[1]), dir });
    } catch {
      // Not a complete checkpoint.
    }
  }
  return out.sort((a, b) => a.step - b.step);
}

export async function pruneCheckpoints(root: string, keep: number): Promise<void> {
  if (!(keep >= 1)) return;
  // Half-written folders of a run that was killed while saving (one trainer writes to a run folder at a time).
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (name.startsWith('.tmp-step-')) await rm(path.join(root, name), { recursive: true, force: true });
  }
  const all = await listCheckpoints(root);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(old.dir, { recursive: true, force: true });
}

/** Reads a checkpoint's `state.json` (to compare its fingerprint before loading anything). */
export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as CheckpointState;
  } catch (error) {
    throw new ManifestError(path.join(dir, STATE_FILE), `unreadable checkpoint state (${(error as Error).message})`);
  }
  if (state.format !== 'pretext-checkpoint') throw new ManifestError(path.join(dir, STATE_FILE), 'not a pretext checkpoint');
  return state;
}

/** Loads weights, optimizer moments and state from a checkpoint into a built session and optimizer. */
export async function loadCheckpoint(dir: string, session: Session, optimizer: AdamW): Promise<CheckpointState> {
  const state = await readCheckpointState(dir);
  const weights = await readSafetensors(path.join(dir, MODEL_FILE));
  const moments = await readSafetensors(path.join(dir, OPTIMIZER_FILE));
  const params = session.store.list();
  for (const p of params) {
    const t = weights.tensors.get(p.name);
    if (!t) throw new ConfigError('resume', p.name, `a parameter present in ${path.join(dir, MODEL_FILE)}; the model changed since the checkpoint`);
    assign(session, p.variable, t, `${p.name} in ${path.join(dir, MODEL_FILE)}`);
    const m = moments.tensors.get(`m/${p.name}`);
    const v = moments.tensors.get(`v/${p.name}`);
    if (!m || !v) throw new ConfigError('resume', p.name, `optimizer moments in ${path.join(dir, OPTIMIZER_FILE)}`);
    assign(session, optimizer.m.get(p.name)!, m, `m/${p.name}`);
    assign(session, optimizer.v.get(p.name)!, v, `v/${p.name}`);
  }
  optimizer.step = state.optimizerStep;
  return state;
}

function assign(session: Session, variable: { shape: number[]; assign(t: Tensor): void }, t: NamedTensor, what: string): void {
  if (t.shape.length !== variable.shape.length || t.shape.some((d, i) => d !== variable.shape[i])) {
    throw new ConfigError('resume', what, `shape [${variable.shape.join(', ')}] but the checkpoint has [${t.shape.join(', ')}]`);
  }
  const { tf } = session;
  const value = tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
  variable.assign(value);
  value.dispose();
}

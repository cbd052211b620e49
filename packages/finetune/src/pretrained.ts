import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, InputNotFoundError, ManifestError, type SpecialTokens } from '@pretext/core';
import { listCheckpoints, readSafetensors, resolveModelConfig, type ModelConfig, type NamedTensor } from '@pretext/trainer';

/** A pre-trained model on disk: the run's resolved config and one checkpoint's weights. */
export interface Pretrained {
  /** The run folder (holding config.json). */
  readonly runDir: string;
  /** The checkpoint folder whose model.safetensors was read. */
  readonly checkpointDir: string;
  readonly model: Required<ModelConfig>;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  /** Sequence length it was pre-trained with. */
  readonly seqLen: number;
  /** Objective names it was pre-trained with, e.g. `['mlm', 'nsp']`. */
  readonly objectives: readonly string[];
  readonly step: number;
  readonly weights: ReadonlyMap<string, NamedTensor>;
}

interface RunConfig {
  vocabSize?: number;
  special?: SpecialTokens;
  model?: ModelConfig;
  seqLen?: number;
  objectives?: { name: string }[];
}

/**
 * Reads a checkpoint written by `pretext train`: either the run folder (the newest complete checkpoint under
 * `checkpoints/` is used) or one `checkpoints/step-N` folder (its run's config.json is two levels up).
 */
export async function loadPretrained(from: string): Promise<Pretrained> {
  const target = path.resolve(from);
  try {
    await stat(target);
  } catch {
    throw new InputNotFoundError(target);
  }
  let runDir: string;
  let checkpointDir: string;
  if (await exists(path.join(target, 'model.safetensors'))) {
    checkpointDir = target;
    runDir = path.resolve(target, '..', '..');
  } else {
    runDir = target;
    const newest = (await listCheckpoints(path.join(target, 'checkpoints'))).at(-1);
    if (!newest) throw new ManifestError(path.join(target, 'checkpoints'), 'no complete checkpoint (step-N folder with state.json)');
    checkpointDir = newest.dir;
  }
  const configFile = path.join(runDir, 'config.json');
  let config: RunConfig;
  try {
    config = JSON.parse(await readFile(configFile, 'utf8')) as RunConfig;
  } catch (error) {
    throw new ManifestError(configFile, `unreadable run config (${(error as Error).message.split('\n')[0]})`);
  }
  if (!config.model || !config.vocabSize || !config.special) throw new ManifestError(configFile, 'no model, vocabSize or special tokens: not a config.json written by pretext train');
  const model = resolveModelConfig(config.model, config.model.architecture);
  let step = Number.NaN;
  try {
    step = (JSON.parse(await readFile(path.join(checkpointDir, 'state.json'), 'utf8')) as { step: number }).step;
  } catch {
    // A checkpoint copied without its state: the step is unknown, the weights still load.
  }
  const weights = (await readSafetensors(path.join(checkpointDir, 'model.safetensors'))).tensors;
  const wte = weights.get('backbone/wte');
  if (!wte || wte.shape[0] !== config.vocabSize || wte.shape[1] !== model.dModel) {
    throw new ConfigError(`${checkpointDir}/model.safetensors backbone/wte`, wte?.shape ?? null, `[${config.vocabSize}, ${model.dModel}] as in ${configFile}`);
  }
  return {
    runDir,
    checkpointDir,
    model,
    vocabSize: config.vocabSize,
    special: config.special,
    seqLen: config.seqLen ?? Math.min(128, model.maxPositions),
    objectives: (config.objectives ?? []).map((o) => o.name),
    step,
    weights,
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

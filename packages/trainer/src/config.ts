import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, InputNotFoundError, MalformedInputError } from '@pretext/core';
import { BACKEND_NAMES } from './backend.js';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

export const modelConfigSchema = z
  .object({
    architecture: z.enum(['encoder', 'decoder']),
    dModel: positiveInt,
    nLayers: positiveInt,
    nHeads: positiveInt,
    dFF: positiveInt,
    maxPositions: positiveInt,
    dropout: z.number().min(0).lt(1),
    typeVocabSize: nonNegativeInt.optional(),
    preLayerNorm: z.boolean().optional(),
    tieEmbeddings: z.literal(true).optional(),
    initializerRange: z.number().gt(0).lt(1).optional(),
  })
  .strict();

const objectiveEntry = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().min(1),
      weight: z.number().positive().optional(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
]);

/**
 * What a training config file (JSON or YAML) may hold: the serialisable part of `TrainOptions` plus the CLI's
 * inputs (`objectives` by name, `data`, `tokenizer`, `out`). Unknown keys are errors, so a typo never silently
 * falls back to a default.
 */
export const trainConfigSchema = z
  .object({
    objectives: z.array(objectiveEntry).min(1).optional(),
    data: z.string().min(1).optional(),
    tokenizer: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    model: z.union([z.string().min(1), modelConfigSchema]).optional(),
    seqLen: positiveInt.optional(),
    batchSize: positiveInt.optional(),
    gradAccumulation: positiveInt.optional(),
    maxSteps: positiveInt.optional(),
    learningRate: z.number().positive().optional(),
    warmupSteps: nonNegativeInt.optional(),
    schedule: z.enum(['cosine', 'linear', 'constant']).optional(),
    weightDecay: z.number().nonnegative().optional(),
    clipNorm: z.number().nonnegative().optional(),
    evalEvery: positiveInt.optional(),
    evalBatches: positiveInt.optional(),
    logEvery: positiveInt.optional(),
    checkpointEvery: positiveInt.optional(),
    keepCheckpoints: positiveInt.optional(),
    resume: z.boolean().optional(),
    backend: z.enum(BACKEND_NAMES as unknown as [string, ...string[]]).optional(),
    seed: z.number().int().optional(),
    maxSeconds: z.number().positive().optional(),
    shuffleBuffer: positiveInt.optional(),
    loader: z.enum(['auto', 'thread', 'main']).optional(),
    loaderPrefetch: positiveInt.optional(),
    sample: z
      .object({
        prompt: z.string(),
        maxNewTokens: positiveInt.optional(),
        temperature: z.number().nonnegative().optional(),
        topK: positiveInt.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type TrainConfigFile = z.infer<typeof trainConfigSchema>;

/**
 * Validates a parsed config object; the first problem becomes a `ConfigError` naming the source and the key,
 * e.g. `run.yaml: batchSize=0 is invalid: expected an integer > 0`.
 */
export function validateTrainConfig(value: unknown, source = 'config'): TrainConfigFile {
  const result = trainConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = [at, issue.keys[0]].filter(Boolean).join('.');
    const known = at === '' ? Object.keys(trainConfigSchema.shape).join(', ') : 'see the trainer README';
    throw new ConfigError(`${source}: ${key}`, getPath(value, [...issue.path, issue.keys[0]!]), `no such option (known: ${known})`);
  }
  throw new ConfigError(`${source}: ${at || '(root)'}`, getPath(value, issue.path), issue.message.replace(/^Invalid input: /, '').replace(/^Too (small|big): /, ''));
}

/** Reads and validates a JSON (`.json`) or YAML (`.yaml`, `.yml`) training config. */
export async function loadTrainConfig(file: string): Promise<TrainConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputNotFoundError(file);
  }
  let value: unknown;
  const ext = path.extname(file).toLowerCase();
  try {
    value = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new MalformedInputError(file, 'its start', `not valid ${ext === '.json' ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`);
  }
  return validateTrainConfig(value, path.basename(file));
}

function getPath(value: unknown, keys: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

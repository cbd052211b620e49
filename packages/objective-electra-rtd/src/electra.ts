import { ConfigError, OBJECTIVE_CONTRACT_VERSION, type Objective } from '@pretext/core';
import { electraExamples } from './examples.js';
import { electraHead } from './head.js';
import { maskRow } from './masking.js';

export interface ElectraRtdOptions {
  /** Share of tokens masked for the generator (ELECTRA `mask_prob`: 0.15; ELECTRA-Large 0.25). */
  readonly probability?: number;
  /** Of the masked tokens, the share shown as `[MASK]`; the rest keep their token, none is random (ELECTRA: 0.85). */
  readonly maskReplace?: number;
  /** Cap on masked tokens per row. Default `max(1, round(probability · seqLen))` (ELECTRA's 19 at 128), never binding. */
  readonly maxPredictions?: number;
  /** Generator width as a fraction of the discriminator's, same depth (ELECTRA-Small 0.25, Base 1/3). */
  readonly generatorWidth?: number;
  /** Sampling temperature of the generator (ELECTRA: 1). */
  readonly temperature?: number;
  /** Weight of the generator's MLM loss within this objective (ELECTRA `gen_weight`: 1). */
  readonly generatorWeight?: number;
  /** Weight of the discriminator's loss within this objective (ELECTRA `disc_weight`: 50). */
  readonly discriminatorWeight?: number;
  /** Share of rows with a single segment when electra-rtd builds the rows (ELECTRA: 0.1). */
  readonly singleSegmentProbability?: number;
  /** Share of rows aiming at a random length in [5, seqLen] (ELECTRA: 0.05). */
  readonly randomLengthProbability?: number;
}

/** The options with every default filled in, as recorded in a run's config. */
export interface ResolvedElectraRtdOptions {
  readonly probability: number;
  readonly maskReplace: number;
  /** `null`: `max(1, round(probability · seqLen))`. */
  readonly maxPredictions: number | null;
  readonly generatorWidth: number;
  readonly temperature: number;
  readonly generatorWeight: number;
  readonly discriminatorWeight: number;
  readonly singleSegmentProbability: number;
  readonly randomLengthProbability: number;
}

export function resolveElectraRtdOptions(options: ElectraRtdOptions = {}): ResolvedElectraRtdOptions {
  const r = {
    probability: options.probability ?? 0.15,
    maskReplace: options.maskReplace ?? 0.85,
    maxPredictions: options.maxPredictions ?? null,
    generatorWidth: options.generatorWidth ?? 0.25,
    temperature: options.temperature ?? 1,
    generatorWeight: options.generatorWeight ?? 1,
    discriminatorWeight: options.discriminatorWeight ?? 50,
    singleSegmentProbability: options.singleSegmentProbability ?? 0.1,
    randomLengthProbability: options.randomLengthProbability ?? 0.05,
  };
  const unit = (key: keyof typeof r, value: number, open = false) => {
    if (!(typeof value === 'number' && (open ? value > 0 : value >= 0) && value <= 1)) {
      throw new ConfigError(`electra-rtd.${key}`, value, `a number in ${open ? '(0, 1]' : '[0, 1]'}`);
    }
  };
  unit('probability', r.probability, true);
  unit('maskReplace', r.maskReplace);
  unit('generatorWidth', r.generatorWidth, true);
  unit('singleSegmentProbability', r.singleSegmentProbability);
  unit('randomLengthProbability', r.randomLengthProbability);
  if (r.maxPredictions !== null && !(Number.isInteger(r.maxPredictions) && r.maxPredictions >= 1)) {
    throw new ConfigError('electra-rtd.maxPredictions', r.maxPredictions, 'a positive integer');
  }
  if (!(typeof r.temperature === 'number' && r.temperature > 0 && Number.isFinite(r.temperature))) {
    throw new ConfigError('electra-rtd.temperature', r.temperature, 'a positive number (ELECTRA: 1)');
  }
  for (const key of ['generatorWeight', 'discriminatorWeight'] as const) {
    if (!(typeof r[key] === 'number' && r[key] > 0 && Number.isFinite(r[key]))) {
      throw new ConfigError(`electra-rtd.${key}`, r[key], 'a positive number (ELECTRA: generator 1, discriminator 50)');
    }
  }
  return r;
}

/**
 * ELECTRA's replaced-token detection (Clark et al. 2020). Alone it builds ELECTRA's rows (sentences accumulated to
 * the length, two segments most of the time, never across documents); it masks rows (its own, or another builder's)
 * with ELECTRA's 85% `[MASK]` / 15% kept; its head trains a small generator on the masked tokens and a discriminator
 * (the main backbone) to tell which tokens the generator replaced. Fine-tune the discriminator; the generator is
 * thrown away.
 */
export function electraRtd(options: ElectraRtdOptions = {}): Objective {
  const resolved = resolveElectraRtdOptions(options);
  const masking = { probability: resolved.probability, maskReplace: resolved.maskReplace, maxPredictions: resolved.maxPredictions };
  const rows = { singleSegmentProbability: resolved.singleSegmentProbability, randomLengthProbability: resolved.randomLengthProbability };
  return {
    name: 'electra-rtd',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: ['labels'],
    incompatible: {
      mlm: 'electra-rtd already trains a masked-LM generator and writes the same labels; use electra-rtd alone',
    },
    defaultExamples: (docs, ctx) => electraExamples(docs, ctx, rows),
    transform: (example, ctx) => maskRow(example, ctx, masking),
    head: (ctx) => electraHead(ctx, resolved),
    options: resolved as unknown as Readonly<Record<string, unknown>>,
    origin: { module: '@pretext/objective-electra-rtd', factory: 'electraRtd', options: { ...options } },
  };
}

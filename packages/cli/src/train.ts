import type { ObjectiveSpec } from '@pretext/core';
import { loadTokenizer, type Tokenizer } from '@pretext/tokenizers';
import { train, type BackendName, type TrainOptions, type TrainResult } from '@pretext/trainer';
import { tokenShardData } from './data.js';
import { createBar, formatSeconds } from './progress.js';

export interface TrainCommandOptions {
  objectives: ObjectiveSpec[];
  data: string;
  tokenizer: string;
  model: string;
  out: string;
  maxSteps: number;
  seqLen?: number;
  batchSize?: number;
  gradAccumulation?: number;
  learningRate?: number;
  warmupSteps?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  validationFraction?: number;
  resume?: boolean;
  backend?: BackendName;
  seed?: number;
  maxSeconds?: number;
  samplePrompt?: string;
  /** Further trainer options (from a config file): schedule, weight decay, clipping, … */
  extra?: Partial<Omit<TrainOptions, 'objectives' | 'data' | 'vocabSize' | 'special' | 'outDir' | 'onProgress'>>;
  quiet?: boolean;
}

export interface TrainCommandResult {
  result: TrainResult;
  tokenizer: Tokenizer;
  data: { documents: number; trainTokens: number; validationTokens: number };
}

/** `pretext train`: token shards + tokenizer + objectives into a run folder. */
export async function trainCommand(options: TrainCommandOptions): Promise<TrainCommandResult> {
  const tokenizer = await loadTokenizer(options.tokenizer);
  const seed = options.seed ?? 1234;
  const data = await tokenShardData(options.data, { validationFraction: options.validationFraction ?? 0.02, seed });
  // The bar measures time: with --max-minutes the step count is set by the budget, so elapsed/(elapsed + ETA) is
  // the honest fraction done.
  const bar = createBar('train', 1000, 'step {step} | loss {loss} | val {val} | lr {lr} | {tps} tok/s', { ...options, eta: 'payload' });
  const started = performance.now();
  let valLoss = '…';
  const prompt = options.samplePrompt === undefined ? undefined : tokenizer.encode(options.samplePrompt);
  const trainOptions: TrainOptions = {
    objectives: options.objectives,
    data,
    vocabSize: tokenizer.vocabSize,
    special: tokenizer.special,
    model: options.model,
    outDir: options.out,
    maxSteps: options.maxSteps,
    seed,
    ...options.extra,
    ...pick(options, ['seqLen', 'batchSize', 'gradAccumulation', 'learningRate', 'warmupSteps', 'evalEvery', 'checkpointEvery', 'resume', 'backend', 'maxSeconds']),
    ...(prompt ? { sample: { prompt, maxNewTokens: 40, temperature: 0.8, topK: 40 } } : {}),
    onProgress: (e) => {
      const elapsed = (performance.now() - started) / 1000;
      const fraction = Number.isFinite(e.etaSeconds) && e.step > 0 ? elapsed / (elapsed + e.etaSeconds) : e.step / e.maxSteps;
      if (e.val?.loss !== undefined) valLoss = e.val.loss.toFixed(3);
      bar.update(Math.round(1000 * Math.min(1, fraction)), {
        step: e.step,
        loss: Number.isFinite(e.loss) ? e.loss.toFixed(3) : '…',
        val: valLoss,
        lr: e.lr.toExponential(2),
        tps: Math.round(e.tokensPerSecond),
        eta: Number.isFinite(e.etaSeconds) ? formatSeconds(e.etaSeconds) : '…',
      });
    },
  };
  try {
    const result = await train(trainOptions);
    bar.update(1000, { step: result.steps, eta: '0s' });
    return { result, tokenizer, data };
  } finally {
    bar.stop();
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/**
 * Lines for the end of a run. Perplexity is shown only where it means something: one objective whose loss is a
 * token cross-entropy (clm, or mlm's masked-token pseudo-perplexity), never for weighted sums of several terms.
 */
export function describeRun(r: TrainResult, objectives: readonly string[] = []): string[] {
  const lines = [
    `backend       ${r.backend.name} (${r.backend.reason})`,
    `steps         ${r.steps} in ${formatSeconds(r.seconds)}, ${Math.round(r.tokensPerSecond)} tokens/s`,
    `train loss    ${r.train.first.toFixed(3)} → ${r.train.last.toFixed(3)}`,
    `loader        ${r.loader.mode === 'thread' ? 'loader thread' : 'main thread'} (${r.loader.reason}); steps waited ${r.loader.waitSeconds.toFixed(2)} s for data in ${r.loader.computeSeconds.toFixed(1)} s of compute`,
  ];
  if (r.validation) {
    lines.push(
      `val loss      ${r.validation.first.toFixed(3)} → ${r.validation.last.toFixed(3)}${
        objectives.length === 1 && (objectives[0] === 'clm' || objectives[0] === 'mlm')
          ? ` (perplexity ${Math.exp(r.validation.first).toFixed(1)} → ${Math.exp(r.validation.last).toFixed(1)})`
          : ''
      }`,
    );
    const metrics = Object.entries(r.validationMetrics ?? {}).filter(([k]) => /accuracy|recall/.test(k));
    if (metrics.length > 0) lines.push(`val metrics   ${metrics.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
  }
  return lines;
}

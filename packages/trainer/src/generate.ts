import { ConfigError, Rng } from '@pretext/core';

/** Anything that gives next-token logits for a context (a trained decoder). */
export interface LanguageModel {
  /** Longest context the model accepts; longer prompts keep their last `contextLength` tokens. */
  readonly contextLength: number;
  nextTokenLogits(context: Int32Array): Float32Array;
}

export interface GenerateOptions {
  readonly prompt: Int32Array;
  readonly maxNewTokens: number;
  /** 0 = greedy; otherwise logits are divided by it before sampling. Default 1. */
  readonly temperature?: number;
  /** Sample only among the k most likely tokens. Default: all. */
  readonly topK?: number;
  /** Stop after generating this token (e.g. end of text); it is included in the output. */
  readonly stopToken?: number;
  /** Seeded generator on the host; the same seed and model give the same text. Default `new Rng(0)`. */
  readonly rng?: Rng;
}

/**
 * Autoregressive sampling on the host: greedy, temperature and top-k. Returns the prompt followed by the new
 * tokens (Hugging Face's `generate` convention).
 */
export function generate(model: LanguageModel, options: GenerateOptions): Int32Array {
  const { prompt, maxNewTokens } = options;
  const temperature = options.temperature ?? 1;
  const rng = options.rng ?? new Rng(0);
  if (prompt.length === 0) throw new ConfigError('sample.prompt', [], 'at least one token id');
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0)) throw new ConfigError('sample.maxNewTokens', maxNewTokens, 'a non-negative integer');
  if (!(temperature >= 0)) throw new ConfigError('sample.temperature', temperature, 'a number >= 0');
  if (options.topK !== undefined && !(Number.isInteger(options.topK) && options.topK >= 1)) throw new ConfigError('sample.topK', options.topK, 'a positive integer');
  const out = new Int32Array(prompt.length + maxNewTokens);
  out.set(prompt);
  let length = prompt.length;
  for (let i = 0; i < maxNewTokens; i++) {
    const start = Math.max(0, length - model.contextLength);
    const logits = model.nextTokenLogits(out.subarray(start, length));
    const next = pickToken(logits, temperature, options.topK, rng);
    out[length++] = next;
    if (next === options.stopToken) break;
  }
  return out.slice(0, length);
}

/** One draw from softmax(logits / temperature) restricted to the top k (argmax when temperature is 0). */
export function pickToken(logits: Float32Array, temperature: number, topK: number | undefined, rng: Rng): number {
  const v = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < v; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  let candidates: number[];
  if (topK !== undefined && topK < v) {
    // Stable order (by logit, then id) so ties never depend on the sort's implementation.
    candidates = Array.from({ length: v }, (_, i) => i)
      .sort((a, b) => logits[b]! - logits[a]! || a - b)
      .slice(0, topK);
  } else {
    candidates = Array.from({ length: v }, (_, i) => i);
  }
  let max = -Infinity;
  for (const i of candidates) max = Math.max(max, logits[i]!);
  const weights = candidates.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.float() * total;
  for (let j = 0; j < candidates.length; j++) {
    r -= weights[j]!;
    if (r < 0) return candidates[j]!;
  }
  return candidates[candidates.length - 1]!;
}

import { ConfigError, OBJECTIVE_CONTRACT_VERSION, type DataContext, type Example, type Objective } from '@pretext/core';
import { mlmHead } from './head.js';
import { applyMask, selectPositions, specialIds, type MaskingConfig } from './masking.js';
import { singleSegmentExamples } from './rows.js';

export interface MlmOptions {
  /** Fraction of tokens predicted (BERT: 0.15). */
  readonly probability?: number;
  /** Of the predicted tokens, the share replaced by `[MASK]` (BERT: 0.8). */
  readonly maskReplace?: number;
  /** Of the predicted tokens, the share replaced by a random non-special token (BERT: 0.1); the rest stay. */
  readonly randomReplace?: number;
  /**
   * `budget` (BERT, default): exactly `min(maxPredictions, max(1, round(probability · n)))` tokens per sequence,
   * n = unpadded length with specials. `bernoulli` (Hugging Face): each token (or word) independently.
   */
  readonly selection?: 'budget' | 'bernoulli';
  /**
   * Cap on the per-sequence budget. Default `max(1, round(probability · seqLen))`, which never binds, so every
   * length gets its 15%. BERT's scripts use 20 at seqLen 128 (also never binding), but 20 at 512 caps masking
   * at ~3.9%; pass 20 to reproduce that.
   */
  readonly maxPredictions?: number;
  /** Whole-word masking: a word's pieces are chosen together (needs a `word_starts` column). */
  readonly wholeWord?: boolean;
  /** ALBERT n-gram masking: spans of n ∈ 1..maxN units with p ∝ 1/n (only with `selection: 'budget'`). */
  readonly ngram?: false | { readonly maxN?: number };
  /** How MLM alone cuts documents into rows: `document` (rows never span documents) or `stream` (RoBERTa). */
  readonly packing?: 'document' | 'stream';
}

/** The options with every default filled in, as recorded in a run's config. */
export interface ResolvedMlmOptions {
  readonly probability: number;
  readonly maskReplace: number;
  readonly randomReplace: number;
  readonly selection: 'budget' | 'bernoulli';
  /** `null`: `max(1, round(probability · seqLen))`. */
  readonly maxPredictions: number | null;
  readonly wholeWord: boolean;
  readonly ngram: false | { readonly maxN: number };
  readonly packing: 'document' | 'stream';
}

export function resolveMlmOptions(options: MlmOptions = {}): ResolvedMlmOptions {
  const probability = options.probability ?? 0.15;
  const maskReplace = options.maskReplace ?? 0.8;
  const randomReplace = options.randomReplace ?? 0.1;
  const selection = options.selection ?? 'budget';
  const maxPredictions = options.maxPredictions ?? null;
  const wholeWord = options.wholeWord ?? false;
  const ngramOption = options.ngram ?? false;
  const packing = options.packing ?? 'document';
  if (!(probability > 0 && probability <= 1)) throw new ConfigError('mlm.probability', probability, 'a number in (0, 1]');
  if (!(maskReplace >= 0 && maskReplace <= 1)) throw new ConfigError('mlm.maskReplace', maskReplace, 'a number in [0, 1]');
  if (!(randomReplace >= 0 && maskReplace + randomReplace <= 1 + 1e-12)) {
    throw new ConfigError('mlm.randomReplace', randomReplace, `a number in [0, ${1 - maskReplace}] (maskReplace + randomReplace ≤ 1)`);
  }
  if (selection !== 'budget' && selection !== 'bernoulli') throw new ConfigError('mlm.selection', selection, '"budget" or "bernoulli"');
  if (maxPredictions !== null && !(Number.isInteger(maxPredictions) && maxPredictions >= 1)) {
    throw new ConfigError('mlm.maxPredictions', maxPredictions, 'a positive integer');
  }
  if (typeof wholeWord !== 'boolean') throw new ConfigError('mlm.wholeWord', wholeWord, 'true or false');
  let ngram: ResolvedMlmOptions['ngram'] = false;
  if (ngramOption !== false) {
    const maxN = ngramOption.maxN ?? 3;
    if (!(Number.isInteger(maxN) && maxN >= 1)) throw new ConfigError('mlm.ngram.maxN', maxN, 'a positive integer (ALBERT: 3)');
    if (selection !== 'budget') throw new ConfigError('mlm.ngram', ngramOption, 'false with selection "bernoulli"; n-gram masking needs selection "budget"');
    ngram = { maxN };
  }
  if (packing !== 'document' && packing !== 'stream') throw new ConfigError('mlm.packing', packing, '"document" or "stream"');
  return { probability, maskReplace, randomReplace, selection, maxPredictions, wholeWord, ngram, packing };
}

/** Special-token ids excluded from random replacement, per data context (computed once). */
const excludedCache = new WeakMap<DataContext, Int32Array>();

/**
 * Masked language modelling (BERT, RoBERTa's dynamic masking, ALBERT's n-grams). Masks examples built by
 * another objective (`transform`: `[mlm(), nsp()]` is BERT) or, alone, builds `[CLS] tokens [SEP]` rows.
 * Masks are drawn anew each time an example passes (dynamic masking), not fixed once as BERT's `dupe_factor`.
 */
export function mlm(options: MlmOptions = {}): Objective {
  const resolved = resolveMlmOptions(options);
  const config: MaskingConfig = {
    probability: resolved.probability,
    maskReplace: resolved.maskReplace,
    randomReplace: resolved.randomReplace,
    selection: resolved.selection,
    maxPredictions: resolved.maxPredictions,
    wholeWord: resolved.wholeWord,
    ngramMaxN: resolved.ngram === false ? 0 : resolved.ngram.maxN,
  };

  const transform = (example: Example, ctx: DataContext): Example => {
    const ids = example.input_ids;
    const n = ids.length;
    const maskId = ctx.special.mask;
    if (maskId === undefined) throw new ConfigError('mlm: special.mask', undefined, 'a [MASK] token id; use a tokenizer that defines one');
    const wordStarts = example.word_starts;
    if (config.wholeWord && !(wordStarts instanceof Uint8Array)) {
      throw new ConfigError('mlm.wholeWord', true, 'examples with a word_starts column (tokenize with word starts) or wholeWord: false');
    }
    const attention = example.attention_mask;
    const specialMask = example.special_tokens_mask;
    const eligible = new Uint8Array(n);
    let length = 0;
    for (let i = 0; i < n; i++) {
      if (!attention[i]) continue;
      length++;
      eligible[i] = specialMask ? (specialMask[i] ? 0 : 1) : isStructural(ids[i]!, ctx) ? 0 : 1;
    }
    const chosen = selectPositions(eligible, wordStarts, length, config, ctx.seqLen, ctx.rng);
    let excluded = excludedCache.get(ctx);
    if (!excluded) {
      excluded = specialIds(ctx.special, ctx.vocabSize);
      excludedCache.set(ctx, excluded);
    }
    const masked = applyMask(ids, chosen, config, maskId, ctx.vocabSize, excluded, ctx.rng);
    return { ...example, input_ids: masked.inputIds, labels: masked.labels };
  };

  return {
    name: 'mlm',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: ['labels'],
    transform,
    defaultExamples: (docs, ctx) => singleSegmentExamples(docs, ctx, resolved.packing),
    head: (ctx) => mlmHead(ctx),
    options: resolved as unknown as Readonly<Record<string, unknown>>,
    origin: { module: '@pretext/objective-mlm', factory: 'mlm', options: { ...options } },
  };
}

/** Without a `special_tokens_mask` column, tokens whose id is a structural special token are never chosen. */
function isStructural(id: number, ctx: DataContext): boolean {
  const s = ctx.special;
  return id === s.pad || id === s.cls || id === s.sep || id === s.bos || id === s.eos || id === s.mask;
}

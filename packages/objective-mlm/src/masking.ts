import { IGNORE_INDEX, type Rng, type SpecialTokens } from '@pretext/core';

/** How tokens are chosen for prediction and what they are replaced with. All fields resolved (no defaults here). */
export interface MaskingConfig {
  /** Fraction of tokens to predict. */
  readonly probability: number;
  /** Of the chosen tokens: share replaced by `[MASK]`. */
  readonly maskReplace: number;
  /** Of the chosen tokens: share replaced by a random non-special token (the rest stay unchanged). */
  readonly randomReplace: number;
  /** `budget`: BERT's exact per-sequence count; `bernoulli`: Hugging Face's independent per-token (per-unit) draw. */
  readonly selection: 'budget' | 'bernoulli';
  /** Cap of the budget; `null`: `max(1, round(probability · seqLen))`, which never binds. */
  readonly maxPredictions: number | null;
  /** Choose whole words (a word start and its continuation tokens) instead of single tokens. */
  readonly wholeWord: boolean;
  /** ALBERT n-gram masking: spans of 1..maxN units with p ∝ 1/n; 0 when off. */
  readonly ngramMaxN: number;
}

/** Python 3's `round` (half to even), as BERT's `int(round(len(tokens) * masked_lm_prob))` computes the budget. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** BERT's number of predictions for a sequence of `length` unpadded tokens (specials included). */
export function predictionBudget(length: number, probability: number, maxPredictions: number): number {
  return Math.min(maxPredictions, Math.max(1, roundHalfEven(length * probability)));
}

/** The ids that random replacement must never produce (all special tokens the tokenizer defines), sorted. */
export function specialIds(special: SpecialTokens, vocabSize: number): Int32Array {
  const ids = new Set<number>();
  for (const v of Object.values(special)) if (typeof v === 'number' && v >= 0 && v < vocabSize) ids.add(v);
  return Int32Array.from([...ids].sort((a, b) => a - b));
}

/**
 * Uniform over `[0, vocabSize)` minus `excluded` (sorted ascending): draw among the allowed count, then step over
 * each excluded id at or below the draw. BERT draws from the whole vocabulary, so it can insert `[CLS]`, `[SEP]` or
 * `[MASK]` as a "random word" (a pitfall); we never do.
 */
export function randomNonSpecial(rng: Rng, vocabSize: number, excluded: Int32Array): number {
  let r = rng.int(vocabSize - excluded.length);
  for (let k = 0; k < excluded.length; k++) {
    if (r >= excluded[k]!) r++;
    else break;
  }
  return r;
}

/** Result of masking one sequence: new inputs and labels (`IGNORE_INDEX` where not predicted). */
export interface Masked {
  readonly inputIds: Int32Array;
  readonly labels: Int32Array;
}

/**
 * Selection units: runs of eligible tokens. A unit is one token, or with `wholeWord` a word start and the
 * continuation tokens after it. `adjacent[u]` is 1 when unit u+1 starts right where unit u ends (n-grams never
 * jump over a special token or padding).
 */
function buildUnits(eligible: Uint8Array, wordStarts: Uint8Array | undefined, wholeWord: boolean) {
  const n = eligible.length;
  const start = new Int32Array(n);
  const len = new Int32Array(n);
  let units = 0;
  for (let i = 0; i < n; i++) {
    if (!eligible[i]) continue;
    const continues = wholeWord && i > 0 && eligible[i - 1] === 1 && wordStarts![i] === 0 && units > 0;
    if (continues) {
      len[units - 1]!++;
    } else {
      start[units] = i;
      len[units] = 1;
      units++;
    }
  }
  const adjacent = new Uint8Array(units);
  for (let u = 0; u + 1 < units; u++) adjacent[u] = start[u + 1] === start[u]! + len[u]! ? 1 : 0;
  return { units, start, len, adjacent };
}

/**
 * Chooses the positions to predict in one sequence. `eligible[i]` is 1 for tokens that may be chosen (never
 * specials or padding); `length` is the unpadded length (specials included) that sets BERT's budget.
 * Returns a 0/1 mask over positions. Consumes `rng` in a fixed order, so a seed fixes the choice.
 *
 * `budget` follows BERT/ALBERT: units in shuffled order, each taken whole if it fits the remaining budget (with
 * n-grams: n drawn, then shortened until it fits; spans overlapping earlier ones skipped).
 */
export function selectPositions(
  eligible: Uint8Array,
  wordStarts: Uint8Array | undefined,
  length: number,
  config: MaskingConfig,
  seqLen: number,
  rng: Rng,
  /** Observes each n-gram draw (units available from the start, n drawn) before it is shortened or skipped. */
  onNgramDraw?: (available: number, drawn: number) => void,
): Uint8Array {
  const chosen = new Uint8Array(eligible.length);
  const { units, start, len, adjacent } = buildUnits(eligible, wordStarts, config.wholeWord);
  if (units === 0) return chosen;
  const mark = (u: number, n: number) => {
    const from = start[u]!;
    const to = start[u + n - 1]! + len[u + n - 1]!;
    for (let i = from; i < to; i++) chosen[i] = 1;
  };

  if (config.selection === 'bernoulli') {
    let any = false;
    for (let u = 0; u < units; u++) {
      if (rng.float() < config.probability) {
        mark(u, 1);
        any = true;
      }
    }
    // At least one prediction per sequence: an all-ignored row gives a 0/0 loss (NaN) when trained alone.
    if (!any) mark(rng.int(units), 1);
    return chosen;
  }

  const cap = config.maxPredictions ?? Math.max(1, roundHalfEven(config.probability * seqLen));
  const budget = predictionBudget(length, config.probability, cap);
  const order = new Int32Array(units);
  for (let u = 0; u < units; u++) order[u] = u;
  rng.shuffle(order);

  let count = 0;
  const maxN = config.ngramMaxN;
  for (let k = 0; k < units && count < budget; k++) {
    const u = order[k]!;
    let n = 1;
    if (maxN > 1) {
      // ALBERT: n drawn with p ∝ 1/n among the n-grams that exist from here, then shortened until it fits.
      let avail = 1;
      while (avail < maxN && u + avail < units && adjacent[u + avail - 1] === 1) avail++;
      let total = 0;
      for (let m = 1; m <= avail; m++) total += 1 / m;
      let x = rng.float() * total;
      n = avail;
      for (let m = 1; m <= avail; m++) {
        x -= 1 / m;
        if (x < 0) {
          n = m;
          break;
        }
      }
      onNgramDraw?.(avail, n);
    }
    let size = start[u + n - 1]! + len[u + n - 1]! - start[u]!;
    while (count + size > budget && n > 1) {
      n--;
      size = start[u + n - 1]! + len[u + n - 1]! - start[u]!;
    }
    if (count + size > budget) continue;
    let covered = false;
    for (let i = start[u]!; i < start[u]! + size; i++) {
      if (chosen[i]) {
        covered = true;
        break;
      }
    }
    if (covered) continue;
    mark(u, n);
    count += size;
  }
  if (count === 0) {
    // Every unit is longer than the budget (whole words of several pieces with a budget of 1): take the shortest
    // whole unit, first in shuffled order, rather than predict nothing or split a word.
    let best = order[0]!;
    for (let k = 1; k < units; k++) if (len[order[k]!]! < len[best]!) best = order[k]!;
    mark(best, 1);
  }
  return chosen;
}

/**
 * Replaces chosen tokens: `maskReplace` of them by `[MASK]`, `randomReplace` by a random non-special id, the rest
 * kept; one uniform draw per chosen token in position order. Labels hold the original ids there.
 */
export function applyMask(
  inputIds: Int32Array,
  chosen: Uint8Array,
  config: MaskingConfig,
  maskId: number,
  vocabSize: number,
  excluded: Int32Array,
  rng: Rng,
): Masked {
  const out = Int32Array.from(inputIds);
  const labels = new Int32Array(inputIds.length).fill(IGNORE_INDEX);
  const randomUpTo = config.maskReplace + config.randomReplace;
  for (let i = 0; i < inputIds.length; i++) {
    if (!chosen[i]) continue;
    labels[i] = inputIds[i]!;
    const x = rng.float();
    if (x < config.maskReplace) out[i] = maskId;
    else if (x < randomUpTo) out[i] = randomNonSpecial(rng, vocabSize, excluded);
  }
  return { inputIds: out, labels };
}

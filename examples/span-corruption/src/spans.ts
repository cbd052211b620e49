import type { Rng } from '@pretext/core';

/**
 * T5's `random_spans_noise_mask` (t5/data/preprocessors.py) for `length` tokens: 1 where a token is corrupted.
 * `numNoise = min(max(round(length · noiseDensity), 1), length − 1)` tokens in
 * `numSpans = max(round(numNoise / meanSpanLength), 1)` spans; the noise and the non-noise tokens are each cut into
 * `numSpans` non-empty pieces at random, and the pieces alternate starting with non-noise, so spans never touch and
 * the first token is never corrupted — unless `randomRoll` rotates the mask by an offset uniform in [0, length), as
 * T5's `random_roll` (a span may then wrap from the end to the start). As in T5, lengths below 2 are treated as 2 (a
 * 1-token row corrupts nothing). One change: `numSpans` is capped by the non-noise tokens, which T5 leaves to fail at
 * high densities.
 */
export function spanNoiseMask(length: number, noiseDensity: number, meanSpanLength: number, rng: Rng, randomRoll = false): Uint8Array {
  const mask = new Uint8Array(length);
  const n = Math.max(length, 2);
  const numNoise = Math.min(Math.max(roundHalfEven(n * noiseDensity), 1), n - 1);
  const numNonNoise = n - numNoise;
  const numSpans = Math.min(Math.max(roundHalfEven(numNoise / meanSpanLength), 1), numNonNoise);
  const noiseLengths = randomSegmentation(numNoise, numSpans, rng);
  const nonNoiseLengths = randomSegmentation(numNonNoise, numSpans, rng);
  let at = 0;
  for (let k = 0; k < numSpans; k++) {
    at += nonNoiseLengths[k]!;
    mask.fill(1, Math.min(at, length), Math.min(at + noiseLengths[k]!, length));
    at += noiseLengths[k]!;
  }
  if (!randomRoll || length < 2) return mask;
  const offset = rng.int(n);
  const rolled = new Uint8Array(length);
  for (let i = 0; i < length; i++) rolled[(i + offset) % length] = mask[i]!;
  return rolled;
}

/** `tf.round`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/** T5's `_random_segmentation`: `items` cut into `segments` non-empty pieces, uniformly over all such cuts. */
function randomSegmentation(items: number, segments: number, rng: Rng): Int32Array {
  // A piece starts after each of `segments − 1` of the `items − 1` gaps, chosen by a shuffle.
  const starts = new Uint8Array(items - 1);
  starts.fill(1, 0, segments - 1);
  rng.shuffle(starts);
  const lengths = new Int32Array(segments);
  let piece = 0;
  lengths[0] = 1;
  for (let i = 0; i < items - 1; i++) {
    if (starts[i]) piece++;
    lengths[piece]!++;
  }
  return lengths;
}

/** The span mask laid over a row's candidate tokens (its content between [CLS] and [SEP], never padding). */
export function spanMaskOver(candidate: Uint8Array, noiseDensity: number, meanSpanLength: number, randomRoll: boolean, rng: Rng): Uint8Array {
  const chosen = new Uint8Array(candidate.length);
  const positions: number[] = [];
  for (let i = 0; i < candidate.length; i++) if (candidate[i]) positions.push(i);
  const noise = spanNoiseMask(positions.length, noiseDensity, meanSpanLength, rng, randomRoll);
  positions.forEach((p, k) => {
    chosen[p] = noise[k]!;
  });
  return chosen;
}

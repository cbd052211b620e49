import { Rng } from '@pretext/core';

/**
 * A seed for one row's sampling noise: FNV-1a over the row's inputs and generator targets, mixed with the step's
 * seed. Keyed by content, not by the row's index in the batch, so a row draws the same replacements whether it is
 * trained in the full batch or in a micro-batch, and gradient accumulation stays exact. Two identical rows in one
 * step draw the same noise (harmless: they are rare, and the samples still follow the generator's distribution).
 */
export function rowSeed(seed: number, inputIds: ArrayLike<number>, labels: ArrayLike<number>, from: number, to: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = from; i < to; i++) {
    h = Math.imul(h ^ (inputIds[i]! & 0xffff), 0x01000193) >>> 0;
    h = Math.imul(h ^ (inputIds[i]! >>> 16), 0x01000193) >>> 0;
    h = Math.imul(h ^ (labels[i]! & 0xffff), 0x01000193) >>> 0;
    h = Math.imul(h ^ (labels[i]! >>> 16), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Standard Gumbel noise `−log(−log u)` for `rows` blocks of `counts[r] × vocab` values, block r drawn from
 * `new Rng(seeds[r])`. Computed in float64 from u = (k + ½)/2³², so u is never 0 or 1 and no token gets an
 * infinite (or clamped) score. Costs one uniform per masked position and vocabulary entry, as ELECTRA's
 * `tf.random.uniform(logits.shape)`.
 */
export function gumbelNoise(counts: ArrayLike<number>, seeds: ArrayLike<number>, vocab: number): Float32Array {
  let total = 0;
  for (let r = 0; r < counts.length; r++) total += counts[r]!;
  const out = new Float32Array(total * vocab);
  let at = 0;
  for (let r = 0; r < counts.length; r++) {
    const n = counts[r]! * vocab;
    if (n === 0) continue;
    const rng = new Rng(seeds[r]!);
    for (let i = 0; i < n; i++) out[at++] = -Math.log(-Math.log((rng.nextUint32() + 0.5) / 4294967296));
  }
  return out;
}

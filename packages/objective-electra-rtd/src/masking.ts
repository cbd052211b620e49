import { ConfigError, type DataContext, type Example } from '@pretext/core';
import { applyMask, selectPositions, type MaskingConfig } from '@pretext/objective-mlm';

/** ELECTRA's masking, resolved. */
export interface ElectraMaskingConfig {
  /** Share of tokens masked (ELECTRA `mask_prob`: 0.15; Large 0.25). */
  readonly probability: number;
  /** Of the masked tokens, the share shown to the generator as `[MASK]`; the rest keep their token (ELECTRA: 0.85). */
  readonly maskReplace: number;
  /** Cap of the per-row budget; `null`: `max(1, round(probability · seqLen))`. */
  readonly maxPredictions: number | null;
}

/**
 * Masks one row as ELECTRA's `mask()` does: `k = max(1, min(N, round(p · Σ input_mask)))` positions among the
 * tokens that are not special or padding, `maskReplace` of them replaced by `[MASK]`, the others kept; never a
 * random token (that is BERT's 10%, not ELECTRA's). Positions are drawn without replacement, so a row gets exactly
 * k of them (ELECTRA samples with replacement and loses the duplicates). `labels` hold the original ids there
 * (the generator's targets), −100 elsewhere.
 */
export function maskRow(example: Example, ctx: DataContext, config: ElectraMaskingConfig): Example {
  const maskId = ctx.special.mask;
  if (maskId === undefined) throw new ConfigError('electra-rtd: special.mask', undefined, 'a [MASK] token id; use a tokenizer that defines one');
  const ids = example.input_ids;
  const n = ids.length;
  const attention = example.attention_mask;
  const specialMask = example.special_tokens_mask;
  const s = ctx.special;
  const eligible = new Uint8Array(n);
  let length = 0;
  for (let i = 0; i < n; i++) {
    if (!attention[i]) continue;
    length++;
    const id = ids[i]!;
    // [MASK] in the text is never a candidate (ELECTRA excludes it), nor is any structural token.
    const structural = id === s.pad || id === s.cls || id === s.sep || id === s.bos || id === s.eos || id === maskId;
    eligible[i] = (specialMask ? specialMask[i] === 1 : false) || structural ? 0 : 1;
  }
  const masking: MaskingConfig = {
    probability: config.probability,
    maskReplace: config.maskReplace,
    randomReplace: 0,
    selection: 'budget',
    maxPredictions: config.maxPredictions,
    wholeWord: false,
    ngramMaxN: 0,
  };
  const chosen = selectPositions(eligible, undefined, length, masking, ctx.seqLen, ctx.rng);
  const masked = applyMask(ids, chosen, masking, maskId, ctx.vocabSize, new Int32Array(0), ctx.rng);
  return { ...example, input_ids: masked.inputIds, labels: masked.labels };
}

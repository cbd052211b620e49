import { OBJECTIVE_CONTRACT_VERSION, type Objective } from '@pretext/core';
import { pairExamples, pairHead, validatePairConfig, type PairConfig } from '@pretext/objective-nsp';

export interface SopOptions {
  /** Probability that a document aims at a random shorter length in [2, seqLen − 3] (ALBERT: 0.1). */
  readonly shortSeqProb?: number;
  /** Probability that A and B are swapped when the chunk has two segments or more (ALBERT: 0.5). */
  readonly negativeProbability?: number;
  /** Documents held in a seeded pool to draw B from for single-segment chunks (`random-document`). */
  readonly documentBuffer?: number;
  /**
   * A chunk of one segment (a sentence filling the whole target, or a one-sentence document):
   * `random-document` (ALBERT's code with `random_next_sentence=False`): B from another document, label 1, an
   * NSP-style negative that raises the share of label 1 above one half (albert#234);
   * `split`: the segment is cut at a random token into A and B, then kept or swapped as any other pair;
   * `skip`: no instance.
   */
  readonly singleSegment?: 'random-document' | 'split' | 'skip';
}

export interface ResolvedSopOptions {
  readonly shortSeqProb: number;
  readonly negativeProbability: number;
  readonly documentBuffer: number;
  readonly singleSegment: 'random-document' | 'split' | 'skip';
}

export function resolveSopOptions(options: SopOptions = {}): ResolvedSopOptions {
  const resolved: ResolvedSopOptions = {
    shortSeqProb: options.shortSeqProb ?? 0.1,
    negativeProbability: options.negativeProbability ?? 0.5,
    documentBuffer: options.documentBuffer ?? 1000,
    singleSegment: options.singleSegment ?? 'random-document',
  };
  validatePairConfig('sop', { task: 'sop', ...resolved });
  return resolved;
}

/** Label column: 0 = A then B in document order, 1 = swapped (Hugging Face's name). */
export const SOP_LABEL = 'sentence_order_label';

/**
 * Sentence-order prediction (ALBERT): the same chunking as BERT's next-sentence pairs, but B always follows A in
 * the same document and the two are swapped half the time; a pooler + two-way classifier on `[CLS]` predicts
 * the order. With `mlm({ ngram: { maxN: 3 } })` this is ALBERT.
 */
export function sop(options: SopOptions = {}): Objective {
  const resolved = resolveSopOptions(options);
  const config: PairConfig = { task: 'sop', ...resolved };
  return {
    name: 'sop',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: [SOP_LABEL],
    incompatible: {
      clm: 'clm trains a causal decoder on packed text, while sentence-order prediction needs [CLS] A [SEP] B [SEP] pairs in a bidirectional encoder; train them separately',
      nsp: 'both build sentence pairs and classify them on [CLS]; keep one (ALBERT replaced nsp with sop)',
    },
    examples: (docs, ctx) => pairExamples(docs, ctx, config, SOP_LABEL),
    head: (ctx) => pairHead(ctx, 'sop', SOP_LABEL),
    options: resolved as unknown as Readonly<Record<string, unknown>>,
    origin: { module: '@pretext/objective-sop', factory: 'sop', options: { ...options } },
  };
}

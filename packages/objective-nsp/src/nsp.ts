import { OBJECTIVE_CONTRACT_VERSION, type Objective } from '@pretext/core';
import { pairHead } from './head.js';
import { pairExamples, validatePairConfig, type PairConfig } from './pairs.js';

export interface NspOptions {
  /** Probability that a document aims at a random shorter length in [2, seqLen − 3] (BERT: 0.1). */
  readonly shortSeqProb?: number;
  /** Probability that B comes from another document when the chunk has two segments or more (BERT: 0.5). */
  readonly negativeProbability?: number;
  /** Documents held in a seeded pool to draw random B segments from (BERT samples the whole input file). */
  readonly documentBuffer?: number;
  /**
   * A chunk of one segment: `random-document` (BERT: B from another document, label 1, which pushes the share
   * of label 1 above one half) or `skip` (no instance, labels stay balanced).
   */
  readonly singleSegment?: 'random-document' | 'skip';
}

export interface ResolvedNspOptions {
  readonly shortSeqProb: number;
  readonly negativeProbability: number;
  readonly documentBuffer: number;
  readonly singleSegment: 'random-document' | 'skip';
}

export function resolveNspOptions(options: NspOptions = {}): ResolvedNspOptions {
  const resolved: ResolvedNspOptions = {
    shortSeqProb: options.shortSeqProb ?? 0.1,
    negativeProbability: options.negativeProbability ?? 0.5,
    documentBuffer: options.documentBuffer ?? 1000,
    singleSegment: options.singleSegment ?? 'random-document',
  };
  validatePairConfig('nsp', { task: 'nsp', ...resolved });
  return resolved;
}

/** Label column: 0 = B is the next segment, 1 = B is from another document (Hugging Face's name). */
export const NSP_LABEL = 'next_sentence_label';

/**
 * Next-sentence prediction (BERT): sentence-pair rows `[CLS] A [SEP] B [SEP]` built as BERT's
 * `create_instances_from_document`, and a pooler + two-way classifier on `[CLS]`. With `mlm()` this is BERT.
 */
export function nsp(options: NspOptions = {}): Objective {
  const resolved = resolveNspOptions(options);
  const config: PairConfig = { task: 'nsp', ...resolved };
  return {
    name: 'nsp',
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'encoder',
    writes: [NSP_LABEL],
    incompatible: {
      clm: 'clm trains a causal decoder on packed text, while next-sentence prediction needs [CLS] A [SEP] B [SEP] pairs in a bidirectional encoder; train them separately',
      sop: 'both build sentence pairs and classify them on [CLS]; keep one (ALBERT replaced nsp with sop)',
    },
    examples: (docs, ctx) => pairExamples(docs, ctx, config, NSP_LABEL),
    head: (ctx) => pairHead(ctx, 'nsp', NSP_LABEL),
    options: resolved as unknown as Readonly<Record<string, unknown>>,
    origin: { module: '@pretext/objective-nsp', factory: 'nsp', options: { ...options } },
  };
}

import { ConfigError, type DataContext, type Example, type TokenizedDocument } from '@pretext/core';
import { boundaryIds } from '@pretext/objective-mlm';

/** How ELECTRA cuts documents into rows. All fields resolved. */
export interface ElectraExampleConfig {
  /** Probability that a row is one segment (`[CLS] A [SEP]`, as in classification tasks). ELECTRA: 0.1. */
  readonly singleSegmentProbability: number;
  /** Probability that the next row's target length is drawn from [5, seqLen] instead of seqLen. ELECTRA: 0.05. */
  readonly randomLengthProbability: number;
}

/** Where one row's segments come from: `[aStart, aEnd)` and `[aEnd', bEnd)` of one document, after truncation. */
export interface ElectraRowPlan {
  readonly doc: TokenizedDocument;
  readonly aStart: number;
  readonly aEnd: number;
  readonly bStart: number;
  readonly bEnd: number;
  /** The token count the row's sentences were accumulated to (seqLen, or a random length). */
  readonly target: number;
}

/**
 * ELECTRA's `ExampleBuilder` (build_pretraining_dataset.py) on a stream of tokenized documents: sentences are
 * accumulated until they reach the target length or the document ends (a row never spans documents); the first
 * segment takes sentences up to `(target − 3) // 2` tokens (the one that crosses it with p 0.5), the rest form the
 * second segment; with p 0.1 everything goes to the first segment; the segments are cut to fit `[CLS] A [SEP] B [SEP]`;
 * with p 0.05 the next row aims at a random length in [5, seqLen]. There is no pair label.
 *
 * One change from the reference: once a sentence went to the second segment, all later ones do too (ELECTRA lets a
 * later, shorter sentence jump back into the first segment, which reorders the text).
 */
export async function* electraRowPlans(
  docs: AsyncIterable<TokenizedDocument>,
  ctx: DataContext,
  config: ElectraExampleConfig,
): AsyncGenerator<ElectraRowPlan> {
  const max = ctx.seqLen;
  if (!(Number.isInteger(max) && max >= 5)) throw new ConfigError('seqLen', max, 'an integer of at least 5 for ELECTRA rows ([CLS] A [SEP] B [SEP])');
  const { rng } = ctx;
  let target = max;
  for await (const doc of docs) {
    const n = doc.ids.length;
    if (n === 0) continue;
    const starts = doc.sentenceStarts ?? Int32Array.of(0);
    // Sentence ends of the chunk being accumulated: the chunk is [chunkStart, ends[last]).
    const ends: number[] = [];
    let chunkStart = 0;
    let length = 0;
    // End of the last sentence taken: out-of-order or overlapping sentence starts never repeat tokens.
    let cursor = 0;
    const create = (): ElectraRowPlan => {
      const firstTarget = rng.float() < config.singleSegmentProbability ? Infinity : Math.floor((target - 3) / 2);
      let aEnd = chunkStart;
      let k = 0;
      // Sentences into A while it is empty, while they fit below the first target, or (crossing it) with p 0.5.
      for (; k < ends.length; k++) {
        const sentence = ends[k]! - aEnd;
        const a = aEnd - chunkStart;
        if (a === 0 || a + sentence < firstTarget || (a < firstTarget && rng.float() < 0.5)) aEnd = ends[k]!;
        else break;
      }
      const chunkEnd = ends[ends.length - 1]!;
      const aLen = Math.min(aEnd - chunkStart, max - 2);
      const bLen = Math.min(chunkEnd - aEnd, Math.max(0, max - aLen - 3));
      const plan: ElectraRowPlan = { doc, aStart: chunkStart, aEnd: chunkStart + aLen, bStart: aEnd, bEnd: aEnd + bLen, target };
      target = rng.float() < config.randomLengthProbability ? rng.randint(5, max) : max;
      return plan;
    };
    for (let s = 0; s < starts.length; s++) {
      const from = Math.max(s === 0 ? 0 : starts[s]!, cursor);
      const to = Math.min(n, s + 1 < starts.length ? starts[s + 1]! : n);
      if (to <= from) continue;
      cursor = to;
      if (ends.length === 0) chunkStart = from;
      ends.push(to);
      length += to - from;
      if (length >= target) {
        yield create();
        ends.length = 0;
        length = 0;
      }
    }
    if (length > 0) yield create();
  }
}

/** A row plan as padded columns: `[CLS] A [SEP] (B [SEP])`, token types 0 for CLS, A and the first SEP, 1 after. */
export function electraRow(plan: ElectraRowPlan, ctx: DataContext): Example {
  const { cls, sep } = boundaryIds(ctx, 'electra-rtd');
  const L = ctx.seqLen;
  const ids = new Int32Array(L).fill(ctx.special.pad);
  const attention = new Uint8Array(L);
  const types = new Int32Array(L);
  const special = new Uint8Array(L).fill(1);
  const { doc } = plan;
  let at = 0;
  ids[at++] = cls;
  ids.set(doc.ids.subarray(plan.aStart, plan.aEnd), at);
  special.fill(0, at, at + plan.aEnd - plan.aStart);
  at += plan.aEnd - plan.aStart;
  ids[at++] = sep;
  if (plan.bEnd > plan.bStart) {
    const b = plan.bEnd - plan.bStart;
    ids.set(doc.ids.subarray(plan.bStart, plan.bEnd), at);
    special.fill(0, at, at + b);
    types.fill(1, at, at + b + 1);
    at += b;
    ids[at++] = sep;
  }
  attention.fill(1, 0, at);
  return { input_ids: ids, attention_mask: attention, token_type_ids: types, special_tokens_mask: special };
}

/** ELECTRA's pre-training rows (unmasked): `electraRowPlans` written out as columns. */
export async function* electraExamples(
  docs: AsyncIterable<TokenizedDocument>,
  ctx: DataContext,
  config: ElectraExampleConfig,
): AsyncGenerator<Example> {
  for await (const plan of electraRowPlans(docs, ctx, config)) yield electraRow(plan, ctx);
}

import { ConfigError, EmptyInputError, type DataContext, type Example, type Rng, type TokenizedDocument } from '@pretext/core';

/**
 * Sentence-pair instances as BERT's `create_instances_from_document` (and ALBERT's variant) build them, on a
 * stream: documents pass through a bounded, seeded pool so a "random next" segment can come from another
 * document. Spans are views into the documents' typed arrays; no per-token objects.
 */

/** How pairs are made. */
export interface PairConfig {
  /** `nsp`: B is the true continuation or comes from another document. `sop`: B is the continuation, maybe swapped. */
  readonly task: 'nsp' | 'sop';
  /** Probability that a document's target length is drawn uniformly from [2, seqLen − 3] instead of the maximum. */
  readonly shortSeqProb: number;
  /** Probability of a negative (random next for `nsp`, swap for `sop`) when the chunk has two segments or more. */
  readonly negativeProbability: number;
  /** How many documents the pool holds to draw random segments from (about half behind, half ahead). */
  readonly documentBuffer: number;
  /**
   * A chunk of one segment (a sentence that fills the target, or a one-sentence document).
   * `random-document` (BERT, ALBERT): B from another document, label 1. `split` (sop only): the segment is cut at
   * a random token into A and B, then ordered or swapped as usual. `skip`: no instance.
   */
  readonly singleSegment: 'random-document' | 'split' | 'skip';
}

/** A span `[start, end)` of a document's tokens. */
export interface Span {
  readonly doc: TokenizedDocument;
  readonly start: number;
  readonly end: number;
}

/** One pair before it becomes a row: where A and B come from, after truncation. */
export interface PairInstance {
  readonly a: Span;
  readonly b: Span;
  /** `nsp`: 0 = B is next, 1 = B random. `sop`: 0 = in order, 1 = swapped (or B random for a single segment). */
  readonly label: 0 | 1;
  /** The chunk held a single segment, so the label was forced (`random-document`) or the segment was split. */
  readonly singleSegment: boolean;
  /** The document's target length (tokens of A + B before truncation aims at it). */
  readonly target: number;
  /** Tokens removed by `truncate_seq_pair`. */
  readonly truncated: number;
}

/** A document with its non-empty sentences as boundaries `[bounds[i], bounds[i+1])`. */
interface Prepared {
  readonly doc: TokenizedDocument;
  readonly bounds: Int32Array;
  readonly segments: number;
}

function prepare(doc: TokenizedDocument): Prepared | undefined {
  const n = doc.ids.length;
  if (n === 0) return undefined;
  const starts = doc.sentenceStarts ?? Int32Array.of(0);
  // Always start at 0 (tokens before a first start form a sentence); drop empty or out-of-order starts.
  const bounds = new Int32Array(starts.length + 2);
  let k = 1;
  for (let i = 0; i < starts.length; i++) {
    const s = Math.min(n, starts[i]!);
    if (s > bounds[k - 1]!) bounds[k++] = s;
  }
  if (bounds[k - 1]! < n) bounds[k++] = n;
  return { doc, bounds: bounds.slice(0, k), segments: k - 1 };
}

/** Mutable span used while truncating. */
interface Cut {
  doc: TokenizedDocument;
  start: number;
  end: number;
}

/** BERT's `truncate_seq_pair`: trim the longer side (B on ties), from the front or the back with p 0.5 each. */
function truncatePair(a: Cut, b: Cut, maxTokens: number, rng: Rng): number {
  let removed = 0;
  while (a.end - a.start + (b.end - b.start) > maxTokens) {
    const side = a.end - a.start > b.end - b.start ? a : b;
    if (rng.float() < 0.5) side.start++;
    else side.end--;
    removed++;
  }
  return removed;
}

/** A bounded pool of recent documents to sample "other" documents from. */
class DocumentPool {
  private readonly items: Prepared[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}
  add(p: Prepared): void {
    if (this.items.length < this.capacity) this.items.push(p);
    else {
      this.items[this.next] = p;
      this.next = (this.next + 1) % this.capacity;
    }
  }
  /**
   * A document other than `self` (by identity and by id). BERT tries 10 random indices and may still return the
   * same document (a known pitfall); we try 10 times, then scan from a random start, and never return `self`.
   */
  other(self: Prepared, rng: Rng): Prepared | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    for (let t = 0; t < 10; t++) {
      const p = this.items[rng.int(n)]!;
      if (p !== self && p.doc.id !== self.doc.id) return p;
    }
    const from = rng.int(n);
    for (let k = 0; k < n; k++) {
      const p = this.items[(from + k) % n]!;
      if (p !== self && p.doc.id !== self.doc.id) return p;
    }
    return undefined;
  }
}

/** Checks and fills in the pair options shared by nsp and sop. */
export function validatePairConfig(objective: string, config: PairConfig): PairConfig {
  if (!(config.shortSeqProb >= 0 && config.shortSeqProb <= 1)) throw new ConfigError(`${objective}.shortSeqProb`, config.shortSeqProb, 'a number in [0, 1]');
  if (!(config.negativeProbability >= 0 && config.negativeProbability <= 1)) {
    throw new ConfigError(`${objective}.negativeProbability`, config.negativeProbability, 'a number in [0, 1]');
  }
  if (!(Number.isInteger(config.documentBuffer) && config.documentBuffer >= 2)) {
    throw new ConfigError(`${objective}.documentBuffer`, config.documentBuffer, 'an integer ≥ 2 (documents held to draw random segments from)');
  }
  const allowed = config.task === 'sop' ? ['random-document', 'split', 'skip'] : ['random-document', 'skip'];
  if (!allowed.includes(config.singleSegment)) {
    throw new ConfigError(`${objective}.singleSegment`, config.singleSegment, allowed.map((a) => `"${a}"`).join(' or '));
  }
  return config;
}

/**
 * Pair instances from a stream of documents. Documents are processed in order, each once, after about
 * `documentBuffer / 2` later documents have entered the pool, so random segments come from documents before and
 * after it. Throws `EmptyInputError` when the stream has fewer than two distinct documents and a random segment
 * is needed.
 */
export async function* pairInstances(docs: AsyncIterable<TokenizedDocument>, ctx: DataContext, config: PairConfig): AsyncGenerator<PairInstance> {
  const maxTokens = ctx.seqLen - 3;
  if (maxTokens < 2) throw new ConfigError('seqLen', ctx.seqLen, 'at least 5 for [CLS] A [SEP] B [SEP]');
  const pool = new DocumentPool(config.documentBuffer);
  const pending: Prepared[] = [];
  const lookahead = Math.floor(config.documentBuffer / 2);
  for await (const doc of docs) {
    const p = prepare(doc);
    if (!p) continue;
    pool.add(p);
    pending.push(p);
    while (pending.length > lookahead) yield* fromDocument(pending.shift()!, pool, ctx.rng, maxTokens, config);
  }
  while (pending.length > 0) yield* fromDocument(pending.shift()!, pool, ctx.rng, maxTokens, config);
}

function* fromDocument(p: Prepared, pool: DocumentPool, rng: Rng, maxTokens: number, config: PairConfig): Generator<PairInstance> {
  const { bounds, doc } = p;
  const S = p.segments;
  const target = rng.float() < config.shortSeqProb ? rng.randint(2, maxTokens) : maxTokens;
  let first = 0; // first segment of the current chunk
  let count = 0; // segments in the current chunk
  let length = 0;
  for (let i = 0; i < S; i++) {
    if (count === 0) first = i;
    count++;
    length += bounds[i + 1]! - bounds[i]!;
    if (i !== S - 1 && length < target) continue;

    const aSegments = count >= 2 ? rng.randint(1, count - 1) : 1;
    const aEnd = bounds[first + aSegments]!;
    let a: Cut = { doc, start: bounds[first]!, end: aEnd };
    const single = count === 1;

    // BERT's random next: B from a random sentence of another document, up to the remaining target.
    const randomNext = (): Cut => {
      const other = pool.other(p, rng);
      if (!other) {
        throw new EmptyInputError('documents', `${config.task} needs segments from at least two different documents, but only "${doc.id}" was seen`);
      }
      const targetB = target - (a.end - a.start);
      const from = rng.randint(0, other.segments - 1);
      const start = other.bounds[from]!;
      let end = start;
      for (let j = from; j < other.segments; j++) {
        end = other.bounds[j + 1]!;
        if (end - start >= targetB) break;
      }
      return { doc: other.doc, start, end };
    };

    if (single && config.singleSegment === 'skip') {
      count = 0;
      length = 0;
      continue;
    }
    let b: Cut;
    let label: 0 | 1 = 0;
    if (config.task === 'nsp') {
      if (single || rng.float() < config.negativeProbability) {
        b = randomNext();
        label = 1;
        // Segments after A were not used: put them back for the next chunk.
        i -= count - aSegments;
      } else {
        b = { doc, start: aEnd, end: bounds[first + count]! };
      }
    } else if (single && config.singleSegment === 'random-document') {
      b = randomNext(); // ALBERT: a one-segment chunk gets a B from another document, labelled 1
      label = 1;
    } else {
      if (single) {
        // Split the one segment at a random token; too short to split: no instance.
        if (a.end - a.start < 2) {
          count = 0;
          length = 0;
          continue;
        }
        const cut = rng.randint(a.start + 1, a.end - 1);
        b = { doc, start: cut, end: a.end };
        a = { doc, start: a.start, end: cut };
      } else {
        b = { doc, start: aEnd, end: bounds[first + count]! };
      }
      if (rng.float() < config.negativeProbability) {
        const t = a;
        a = b;
        b = t;
        label = 1;
      }
    }
    const truncated = truncatePair(a, b, maxTokens, rng);
    yield { a, b, label, singleSegment: single, target, truncated };
    count = 0;
    length = 0;
  }
}

/** `[CLS] A [SEP] B [SEP]` and padding, with token types, attention, special-token mask and word starts. */
export function pairRow(instance: PairInstance, ctx: DataContext, labelColumn: string, withWordStarts: boolean): Example {
  const cls = ctx.special.cls ?? ctx.special.bos;
  const sep = ctx.special.sep ?? ctx.special.eos;
  if (cls === undefined || sep === undefined) {
    throw new ConfigError('special.cls/sep', ctx.special, 'token ids for [CLS] and [SEP] (or bos and eos); use a tokenizer that defines them');
  }
  const L = ctx.seqLen;
  const ids = new Int32Array(L).fill(ctx.special.pad);
  const attention = new Uint8Array(L);
  const types = new Int32Array(L);
  const special = new Uint8Array(L).fill(1);
  const wordStarts = withWordStarts ? new Uint8Array(L) : undefined;
  const { a, b } = instance;
  const la = a.end - a.start;
  const lb = b.end - b.start;
  const total = la + lb + 3;
  ids[0] = cls;
  ids.set(a.doc.ids.subarray(a.start, a.end), 1);
  ids[la + 1] = sep;
  ids.set(b.doc.ids.subarray(b.start, b.end), la + 2);
  ids[total - 1] = sep;
  attention.fill(1, 0, total);
  special.fill(0, 1, la + 1);
  special.fill(0, la + 2, total - 1);
  types.fill(1, la + 2, total);
  if (wordStarts) {
    wordStarts[0] = 1;
    if (a.doc.wordStarts) wordStarts.set(a.doc.wordStarts.subarray(a.start, a.end), 1);
    else wordStarts.fill(1, 1, la + 1);
    wordStarts[la + 1] = 1;
    if (b.doc.wordStarts) wordStarts.set(b.doc.wordStarts.subarray(b.start, b.end), la + 2);
    else wordStarts.fill(1, la + 2, total - 1);
    wordStarts[total - 1] = 1;
  }
  const e: Example = { input_ids: ids, attention_mask: attention, token_type_ids: types, special_tokens_mask: special };
  if (wordStarts) e.word_starts = wordStarts;
  e[labelColumn] = instance.label;
  return e;
}

/** Rows from a document stream: pair instances, then `pairRow`. Word starts are carried when the first document has them. */
export async function* pairExamples(
  docs: AsyncIterable<TokenizedDocument>,
  ctx: DataContext,
  config: PairConfig,
  labelColumn: string,
): AsyncGenerator<Example> {
  let withWordStarts: boolean | undefined;
  async function* tap(): AsyncGenerator<TokenizedDocument> {
    for await (const d of docs) {
      withWordStarts ??= d.wordStarts !== undefined;
      yield d;
    }
  }
  for await (const instance of pairInstances(tap(), ctx, config)) yield pairRow(instance, ctx, labelColumn, withWordStarts === true);
}

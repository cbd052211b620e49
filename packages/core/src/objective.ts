import type * as tfc from '@tensorflow/tfjs-core';
import type { SpecialTokens, TokenizedDocument } from './documents.js';
import { ObjectiveConflictError, ObjectiveContractError } from './errors.js';
import type { Rng } from './rng.js';

/**
 * The objective plugin contract, version 1.
 *
 * An objective is a plain value made by a factory that takes one options object. It covers three sides:
 * - data: turning tokenized documents into training examples (`examples`, or `transform` of someone else's);
 * - model: the heads (and extra networks) it adds to the trainer's transformer backbone (`head`);
 * - loss: per-term sums and the number of items each sums over, so gradient accumulation is exact.
 * Objectives never import TensorFlow.js themselves: the trainer hands them its `tf`, so one tfjs instance
 * (and one backend) serves the whole model.
 */
export const OBJECTIVE_CONTRACT_VERSION = 1 as const;

export type TF = typeof tfc;
export type Tensor = tfc.Tensor;
export type Scalar = tfc.Scalar;
export type Tensor2D = tfc.Tensor2D;
export type Tensor3D = tfc.Tensor3D;
export type Variable = tfc.Variable;

/**
 * One training row. Every per-token column has length `seqLen` (padded by the builder, `attention_mask` 0 on
 * padding). Column names follow Hugging Face (`input_ids`, `labels`, `next_sentence_label`, …) so previews and
 * exports read the same. Per-token label columns use `IGNORE_INDEX` where nothing is predicted; row labels are numbers.
 */
export interface Example {
  input_ids: Int32Array;
  attention_mask: Uint8Array;
  token_type_ids?: Int32Array;
  position_ids?: Int32Array;
  /** Which packed document each token belongs to; with attention reset, tokens attend only within equal ids. */
  document_ids?: Int32Array;
  /** 1 where a token begins a word (whole-word masking). */
  word_starts?: Uint8Array;
  /** 1 where a token is special ([CLS], [SEP], end of text, padding): never selected for prediction. */
  special_tokens_mask?: Uint8Array;
  [column: string]: Int32Array | Uint8Array | Float32Array | number | undefined;
}

/** A batch on the host: each column is one flat typed array (`[size * seqLen]` per token, `[size]` per row). */
export interface Batch {
  readonly size: number;
  readonly seqLen: number;
  readonly columns: Readonly<Record<string, Int32Array | Uint8Array | Float32Array>>;
}

/** Everything the data side may use. Randomness comes only from `rng`, so a seed fixes every example. */
export interface DataContext {
  readonly seqLen: number;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly rng: Rng;
}

/** Builds examples from a stream of tokenized documents; may buffer documents to sample across them. */
export type ExampleSource = (docs: AsyncIterable<TokenizedDocument>, ctx: DataContext) => AsyncIterable<Example>;

/** How parameters are initialised. */
export type Init = { readonly kind: 'zeros' } | { readonly kind: 'ones' } | { readonly kind: 'normal'; readonly std: number };

/** Inputs of a transformer backbone, as int32 tensors `[batch, seqLen]`. */
export interface BackboneInputs {
  readonly inputIds: Tensor2D;
  readonly attentionMask?: Tensor2D;
  readonly tokenTypeIds?: Tensor2D;
  readonly positionIds?: Tensor2D;
  readonly documentIds?: Tensor2D;
}

/** A transformer the trainer built; `apply` runs it inside the current gradient tape. */
export interface Backbone {
  readonly dModel: number;
  readonly vocabSize: number;
  /** Hidden states `[batch, seqLen, dModel]` after the final layer norm. */
  apply(inputs: BackboneInputs, training: boolean): Tensor3D;
}

/** Shapes of the model an objective is attached to. */
export interface ModelInfo {
  readonly architecture: 'encoder' | 'decoder';
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly dModel: number;
  readonly nLayers: number;
  readonly nHeads: number;
  /** Standard deviation heads should use for normally initialised kernels; absent means 0.02 (BERT's). */
  readonly initializerRange?: number;
}

/** What an objective may use to create its parameters. */
export interface HeadContext {
  readonly tf: TF;
  readonly model: ModelInfo;
  /** Creates a trainable parameter registered with the optimizer and checkpoints as `<objective>/<name>`. */
  variable(name: string, shape: readonly number[], init: Init): Variable;
  /** The word embedding table `[vocabSize, dModel]`, for output layers tied to the input embeddings. */
  readonly wordEmbeddings: Variable;
  /** The main backbone. */
  readonly backbone: Backbone;
  /**
   * Builds an extra transformer (ELECTRA's generator) of the same depth, `widthFactor` of the main width,
   * sharing the main embedding tables.
   */
  extraBackbone(name: string, options: { readonly widthFactor: number }): Backbone;
}

/** What `forward` sees, inside the gradient tape, for one batch. */
export interface ForwardContext {
  readonly tf: TF;
  readonly training: boolean;
  /** The batch's columns as tensors (int32 for integer columns, float32 for float ones). */
  readonly batch: Readonly<Record<string, Tensor>>;
  readonly size: number;
  readonly seqLen: number;
  /** The main backbone's hidden states on the batch's own inputs (computed once, on first use). */
  hidden(): Tensor3D;
  /** A seed for in-graph sampling, fixed by the data seed and the step. */
  readonly seed: number;
}

/** Sums for one batch. The trainer divides each term by its total count over all accumulated micro-batches. */
export interface ObjectiveOutput {
  /** Per loss term, the sum of per-item losses (not a mean). */
  readonly sums: Readonly<Record<string, Scalar>>;
  /** Named metrics as (sum, count): accuracy is (number correct, number predicted). */
  readonly metrics?: Readonly<Record<string, { readonly sum: Scalar; readonly count: number }>>;
}

/** The model side of an objective, created once per model. */
export interface ObjectiveHead {
  /** Loss terms and their weights within this objective, e.g. `{ generator: 1, discriminator: 50 }`. */
  readonly terms: Readonly<Record<string, number>>;
  /** How many items each term sums over in this host batch. Must depend on the data only, never on the model. */
  counts(batch: Batch): Readonly<Record<string, number>>;
  forward(ctx: ForwardContext): ObjectiveOutput;
  /**
   * Optional: output logits `[rows, vocabSize]` from final hidden states `[rows, dModel]` of the main backbone, for
   * sampling (a decoder's next-token distribution) and export. Called inside `tf.tidy` by the trainer.
   */
  readonly logits?: (hidden: Tensor2D) => Tensor2D;
}

/** Where an objective came from, so worker threads and resumed runs can rebuild the same value. */
export interface ObjectiveOrigin {
  /** Package name or absolute file URL. */
  readonly module: string;
  /** Name of the exported factory. */
  readonly factory: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface Objective {
  readonly name: string;
  readonly contract: typeof OBJECTIVE_CONTRACT_VERSION;
  /** `decoder` needs causal attention, `encoder` bidirectional; `any` fits both. */
  readonly architecture: 'encoder' | 'decoder' | 'any';
  /** Example columns this objective writes (two objectives may not write the same one). */
  readonly writes: readonly string[];
  /** Names of objectives this one cannot be combined with, with the reason. */
  readonly incompatible?: Readonly<Record<string, string>>;
  /** Builds examples from documents. At most one objective in a composition provides it. */
  readonly examples?: ExampleSource;
  /** Builds examples when no objective in the composition provides `examples` (MLM alone: single segments). */
  readonly defaultExamples?: ExampleSource;
  /** Adds this objective's inputs and labels to an example built by another (MLM masking an NSP pair). */
  readonly transform?: (example: Example, ctx: DataContext) => Example;
  readonly head: (ctx: HeadContext) => ObjectiveHead;
  /** The resolved options (defaults filled in), recorded in the run's config. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly origin?: ObjectiveOrigin;
}

/** An objective with its weight in the total loss. */
export type ObjectiveSpec = Objective | readonly [Objective, number];

export interface WeightedObjective {
  readonly objective: Objective;
  readonly weight: number;
}

/** A validated combination of objectives: one example source, transforms in order, one architecture. */
export interface Composition {
  readonly objectives: readonly WeightedObjective[];
  readonly architecture: 'encoder' | 'decoder';
  readonly names: readonly string[];
  /** Builds the examples: the one builder's source, then every transform in the given order. */
  readonly examples: ExampleSource;
}

/**
 * Checks a list of objectives and combines them. Fails with a typed error on a contract version
 * mismatch, duplicate names, two example builders, mixed architectures, declared incompatibilities, or two
 * objectives writing the same column.
 */
export function composeObjectives(specs: readonly ObjectiveSpec[]): Composition {
  if (specs.length === 0) throw new ObjectiveConflictError([], 'no objective given; pass at least one, e.g. clm()');
  const objectives: WeightedObjective[] = specs.map((spec) => {
    const [objective, weight] = isWeighted(spec) ? spec : [spec, 1];
    if (!(typeof weight === 'number' && Number.isFinite(weight) && weight > 0)) {
      throw new ObjectiveConflictError([objective.name], `weight ${weight} must be a positive number`);
    }
    return { objective, weight };
  });
  const names = objectives.map((o) => o.objective.name);
  for (const { objective } of objectives) {
    if (objective.contract !== OBJECTIVE_CONTRACT_VERSION) {
      throw new ObjectiveContractError(objective.name ?? '<unnamed>', OBJECTIVE_CONTRACT_VERSION, objective.contract);
    }
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ObjectiveConflictError(names, `"${name}" appears twice; list each objective once`);
    seen.add(name);
  }
  for (const { objective } of objectives) {
    for (const [other, reason] of Object.entries(objective.incompatible ?? {})) {
      if (seen.has(other)) throw new ObjectiveConflictError([objective.name, other], reason);
    }
  }
  const archs = new Set(objectives.map((o) => o.objective.architecture).filter((a) => a !== 'any'));
  if (archs.size > 1) {
    const enc = objectives.filter((o) => o.objective.architecture === 'encoder').map((o) => o.objective.name);
    const dec = objectives.filter((o) => o.objective.architecture === 'decoder').map((o) => o.objective.name);
    throw new ObjectiveConflictError(names, `${dec.join(', ')} need a causal decoder but ${enc.join(', ')} need a bidirectional encoder; train them separately`);
  }
  const architecture = (archs.values().next().value as 'encoder' | 'decoder' | undefined) ?? 'encoder';
  const writers = new Map<string, string>();
  for (const { objective } of objectives) {
    for (const column of objective.writes) {
      const prior = writers.get(column);
      if (prior) throw new ObjectiveConflictError([prior, objective.name], `both write the column "${column}"`);
      writers.set(column, objective.name);
    }
  }
  const builders = objectives.filter((o) => o.objective.examples);
  if (builders.length > 1) {
    throw new ObjectiveConflictError(
      builders.map((b) => b.objective.name),
      'each builds its own examples from documents; keep one of them',
    );
  }
  const source = builders[0]?.objective.examples ?? objectives.find((o) => o.objective.defaultExamples)?.objective.defaultExamples;
  if (!source) {
    throw new ObjectiveConflictError(names, 'none of them builds examples from documents; add one that does (clm, mlm, nsp, sop, electra-rtd)');
  }
  const transforms = objectives.flatMap((o) => (o.objective.transform ? [o.objective.transform] : []));
  const examples: ExampleSource = transforms.length === 0
    ? source
    : async function* (docs, ctx) {
        for await (let example of source(docs, ctx)) {
          for (const transform of transforms) example = transform(example, ctx);
          yield example;
        }
      };
  return { objectives, architecture, names, examples };
}

function isWeighted(spec: ObjectiveSpec): spec is readonly [Objective, number] {
  return Array.isArray(spec);
}

/** Stacks examples into one columnar batch. Per-token columns must all have the same length. */
export function collate(examples: readonly Example[]): Batch {
  const first = examples[0];
  if (!first) throw new RangeError('collate: no examples');
  const seqLen = first.input_ids.length;
  const size = examples.length;
  const columns: Record<string, Int32Array | Uint8Array | Float32Array> = {};
  for (const key of Object.keys(first)) {
    const value = first[key];
    if (value === undefined) continue;
    if (typeof value === 'number') {
      const out = Number.isInteger(value) ? new Int32Array(size) : new Float32Array(size);
      examples.forEach((e, i) => {
        out[i] = e[key] as number;
      });
      columns[key] = out;
    } else {
      const Ctor = value.constructor as Int32ArrayConstructor | Uint8ArrayConstructor | Float32ArrayConstructor;
      const out = new Ctor(size * value.length);
      examples.forEach((e, i) => {
        const col = e[key];
        if (!col || typeof col === 'number' || col.length !== value.length) {
          throw new RangeError(`collate: column ${key} of example ${i} does not match the first example`);
        }
        out.set(col, i * value.length);
      });
      columns[key] = out;
    }
  }
  return { size, seqLen, columns };
}

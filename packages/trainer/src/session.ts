import {
  ConfigError,
  seedFromString,
  type Batch,
  type Composition,
  type ForwardContext,
  type HeadContext,
  type ModelInfo,
  type Objective,
  type ObjectiveHead,
  type Scalar,
  type TF,
  type Tensor,
  type Tensor2D,
} from '@pretext/core';
import type { BackendName } from './backend.js';
import { DropoutSeeds, ParameterStore, buildBackbone, buildExtraBackbone, type ModelConfig, type TransformerBackbone } from './model.js';
import { createOps, type Ops } from './ops.js';

export interface SessionOptions {
  readonly tf: TF;
  readonly backend: BackendName;
  readonly composition: Composition;
  readonly model: Required<ModelConfig>;
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly seed: number;
}

interface AttachedHead {
  readonly objective: Objective;
  readonly weight: number;
  readonly head: ObjectiveHead;
}

/** Per objective and term (`clm.lm`), the number of items summed over. */
export type Counts = Record<string, number>;

export interface GradientResult {
  /** The weighted, count-normalised loss of all micro-batches together. */
  readonly loss: number;
  /** Per `objective.term`: sum of per-item losses over the micro-batches. */
  readonly sums: Record<string, number>;
  readonly counts: Counts;
  /** Per `objective.metric`: (sum, count). */
  readonly metrics: Record<string, { sum: number; count: number }>;
  /** Gradient per parameter name (caller disposes). */
  readonly grads: Map<string, Tensor>;
}

export interface GradientOptions {
  /** Default true (dropout on). */
  readonly training?: boolean;
  /** Counts over every micro-batch of the step on every worker; default: the counts of `batches`. */
  readonly totals?: Counts;
  /** Data-parallel rank, so workers draw different dropout masks. */
  readonly rank?: number;
}

export interface EvalResult {
  readonly loss: number;
  /** `objective.term` means and `objective.metric` ratios. */
  readonly values: Record<string, number>;
}

/**
 * A model assembled from a composition: the backbone, each objective's head, and the forward/backward passes.
 * The trainer's loop, evaluation, sampling and tests all go through it.
 */
export class Session {
  readonly ops: Ops;
  readonly store: ParameterStore;
  readonly backbone: TransformerBackbone;
  readonly heads: AttachedHead[];
  readonly seeds = new DropoutSeeds();
  readonly modelInfo: ModelInfo;

  constructor(readonly options: SessionOptions) {
    const { tf, backend, composition, model, vocabSize, seqLen, seed } = options;
    if (seqLen > model.maxPositions) throw new ConfigError('seqLen', seqLen, `at most the model's maxPositions=${model.maxPositions}`);
    this.ops = createOps(tf, backend);
    this.store = new ParameterStore(this.ops, seedFromString('init', seed));
    this.backbone = buildBackbone(this.ops, this.store, model, vocabSize, this.seeds);
    this.modelInfo = { architecture: composition.architecture, vocabSize, seqLen, dModel: model.dModel, nLayers: model.nLayers, nHeads: model.nHeads, initializerRange: model.initializerRange };
    this.heads = composition.objectives.map(({ objective, weight }) => {
      const ctx: HeadContext = {
        tf: this.ops.objectiveTf,
        model: this.modelInfo,
        variable: (name, shape, init) => this.store.create(`${objective.name}/${name}`, shape, init),
        wordEmbeddings: this.backbone.embeddings.word,
        backbone: this.backbone,
        extraBackbone: (name, { widthFactor }) => buildExtraBackbone(this.ops, this.store, this.backbone, `${objective.name}/${name}`, widthFactor, this.seeds),
      };
      return { objective, weight, head: objective.head(ctx) };
    });
  }

  get tf(): TF {
    return this.options.tf;
  }

  /** Items per loss term in one host batch, from the objectives' `counts`. */
  counts(batch: Batch): Counts {
    const out: Counts = {};
    for (const { objective, head } of this.heads) {
      const c = head.counts(batch);
      for (const term of Object.keys(head.terms)) {
        const n = c[term];
        if (!(typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
          throw new ConfigError(`${objective.name}.counts().${term}`, n, 'a non-negative integer count for every loss term');
        }
        out[`${objective.name}.${term}`] = n;
      }
    }
    return out;
  }

  /**
   * Gradient of the loss over all `batches` together: each term's sum is divided by its count over all of them
   * (computed on the host first), so k micro-batches give exactly the full batch's gradient.
   */
  gradients(batches: readonly Batch[], step: number, options: GradientOptions = {}): GradientResult {
    const { tf } = this;
    const training = options.training ?? true;
    let totals: Counts = {};
    if (options.totals) totals = { ...options.totals };
    else for (const b of batches) for (const [k, n] of Object.entries(this.counts(b))) totals[k] = (totals[k] ?? 0) + n;
    const vars = this.store.list();
    const byVarName = new Map(vars.map((p) => [p.variable.name, p.name]));
    const grads = new Map<string, Tensor>();
    const sums: Record<string, number> = {};
    const metrics: Record<string, { sum: number; count: number }> = {};
    let loss = 0;
    batches.forEach((batch, i) => {
      const rank = options.rank === undefined ? '' : `/${options.rank}`;
      this.seeds.reset(seedFromString(`dropout/${step}/${i}${rank}`, this.options.seed));
      const recorded: { key: string; value: Scalar; metricCount?: number }[] = [];
      const { value, grads: g } = tf.variableGrads(() => {
        const total = this.forward(batch, totals, training, `${step}/${i}${rank}`, recorded);
        for (const r of recorded) tf.keep(r.value);
        return total;
      }, vars.map((p) => p.variable));
      loss += value.dataSync()[0]!;
      value.dispose();
      this.collect(recorded, sums, metrics);
      for (const [varName, grad] of Object.entries(g)) {
        const name = byVarName.get(varName);
        if (!name) continue;
        const prev = grads.get(name);
        if (prev) {
          grads.set(name, tf.add(prev, grad));
          prev.dispose();
          grad.dispose();
        } else {
          grads.set(name, grad);
        }
      }
    });
    return { loss, sums, counts: totals, metrics, grads };
  }

  /** Loss and metrics over fixed batches, without dropout or gradients. */
  evaluate(batches: readonly Batch[]): EvalResult {
    const { tf } = this;
    const sums: Record<string, number> = {};
    const metrics: Record<string, { sum: number; count: number }> = {};
    const totals: Counts = {};
    for (const batch of batches) {
      const counts = this.counts(batch);
      for (const [k, n] of Object.entries(counts)) totals[k] = (totals[k] ?? 0) + n;
      const recorded: { key: string; value: Scalar; metricCount?: number }[] = [];
      tf.tidy(() => {
        this.forward(batch, counts, false, 'eval', recorded);
        for (const r of recorded) tf.keep(r.value);
      });
      this.collect(recorded, sums, metrics);
    }
    const values: Record<string, number> = {};
    let loss = 0;
    for (const { objective, weight, head } of this.heads) {
      for (const [term, w] of Object.entries(head.terms)) {
        const key = `${objective.name}.${term}`;
        const n = totals[key] ?? 0;
        if (n === 0) continue;
        const mean = (sums[key] ?? 0) / n;
        values[key] = mean;
        loss += weight * w * mean;
      }
    }
    for (const [key, m] of Object.entries(metrics)) if (m.count > 0) values[key] = m.sum / m.count;
    return { loss, values };
  }

  /** Next-token logits for one context (decoders), from the first head that provides `logits`. */
  nextTokenLogits(context: Int32Array): Float32Array {
    const { tf } = this;
    const head = this.heads.find((h) => h.head.logits)?.head;
    if (!head?.logits) throw new ConfigError('sample', 'logits', 'an objective whose head provides logits (clm)');
    const logits = tf.tidy(() => {
      const ids = tf.tensor2d(context, [1, context.length], 'int32');
      const hidden = this.backbone.apply({ inputIds: ids }, false);
      const d = hidden.shape[2];
      const last = tf.reshape(tf.slice(hidden, [0, context.length - 1, 0], [1, 1, d]), [1, d]) as Tensor2D;
      return head.logits!(last);
    });
    const out = logits.dataSync() as Float32Array;
    logits.dispose();
    return out;
  }

  dispose(): void {
    this.store.dispose();
  }

  private forward(
    batch: Batch,
    totals: Counts,
    training: boolean,
    /** Step, micro-batch and rank (or 'eval'): in-graph sampling differs between micro-batches and replicas. */
    where: string,
    recorded: { key: string; value: Scalar; metricCount?: number }[],
  ): Scalar {
    const { tf } = this;
    const tensors = toTensors(tf, batch);
    const inputIds = tensors['input_ids'] as Tensor2D | undefined;
    if (!inputIds) throw new ConfigError('batch', Object.keys(batch.columns), 'an input_ids column');
    let hidden: ReturnType<TransformerBackbone['apply']> | null = null;
    const ctx: ForwardContext = {
      tf: this.ops.objectiveTf,
      training,
      batch: tensors,
      size: batch.size,
      seqLen: batch.seqLen,
      seed: seedFromString(`forward/${where}`, this.options.seed),
      hidden: () =>
        (hidden ??= this.backbone.apply(
          {
            inputIds,
            attentionMask: tensors['attention_mask'] as Tensor2D | undefined,
            tokenTypeIds: tensors['token_type_ids'] as Tensor2D | undefined,
            positionIds: tensors['position_ids'] as Tensor2D | undefined,
            documentIds: tensors['document_ids'] as Tensor2D | undefined,
          },
          training,
        )),
    };
    let total: Scalar = tf.scalar(0);
    for (const { objective, weight, head } of this.heads) {
      const out = head.forward(ctx);
      for (const [term, w] of Object.entries(head.terms)) {
        const sum = out.sums[term];
        if (!sum) throw new ConfigError(`${objective.name}.forward().sums.${term}`, undefined, 'a scalar sum for every declared loss term');
        const key = `${objective.name}.${term}`;
        recorded.push({ key, value: sum });
        const n = totals[key] ?? 0;
        if (n > 0) total = tf.add(total, tf.mul(sum, (weight * w) / n));
      }
      for (const [name, m] of Object.entries(out.metrics ?? {})) {
        recorded.push({ key: `${objective.name}.${name}`, value: m.sum, metricCount: m.count });
      }
    }
    return total;
  }

  private collect(
    recorded: readonly { key: string; value: Scalar; metricCount?: number }[],
    sums: Record<string, number>,
    metrics: Record<string, { sum: number; count: number }>,
  ): void {
    for (const r of recorded) {
      const v = r.value.dataSync()[0]!;
      r.value.dispose();
      if (r.metricCount === undefined) sums[r.key] = (sums[r.key] ?? 0) + v;
      else {
        const m = (metrics[r.key] ??= { sum: 0, count: 0 });
        m.sum += v;
        m.count += r.metricCount;
      }
    }
  }
}

/** Host batch → tensors: integer columns as int32, float columns as float32; per-token columns `[size, seqLen]`. */
export function toTensors(tf: TF, batch: Batch): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, col] of Object.entries(batch.columns)) {
    const shape = col.length === batch.size ? [batch.size] : [batch.size, col.length / batch.size];
    if (col instanceof Float32Array) out[name] = tf.tensor(col, shape, 'float32');
    else if (col instanceof Int32Array) out[name] = tf.tensor(col, shape, 'int32');
    else out[name] = tf.tensor(Int32Array.from(col), shape, 'int32');
  }
  return out;
}

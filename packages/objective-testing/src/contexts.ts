import type {
  Backbone,
  BackboneInputs,
  Batch,
  ForwardContext,
  HeadContext,
  Init,
  ModelInfo,
  Tensor,
  Tensor2D,
  Tensor3D,
  TF,
  Variable,
} from '@pretext/core';

/**
 * Small, real model contexts for head tests without the trainer: a toy backbone (word + position + token-type
 * embeddings, one dense tanh layer, and a masked mean over the sequence added to every position, so a [CLS]
 * head sees the whole row). Every tensor is real tfjs; nothing is mocked.
 */
export interface TestHeadContext extends HeadContext {
  /** Every variable created, by full name (`<prefix>/<name>`), including the backbone's. */
  readonly variables: ReadonlyMap<string, Variable>;
  /** The same model seen by another objective: its variables are created as `<name>/…`. */
  forObjective(name: string): HeadContext;
  /** Frees every variable. */
  dispose(): void;
}

export interface TestModelOptions {
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly dModel?: number;
  readonly architecture?: 'encoder' | 'decoder';
  /** Seed of the parameter initialisation. */
  readonly seed?: number;
  /** Name prefix of the head's variables (the objective's name). */
  readonly prefix?: string;
}

function initTensor(tf: TF, shape: readonly number[], init: Init, seed: number): Tensor {
  if (init.kind === 'zeros') return tf.zeros(shape as number[]);
  if (init.kind === 'ones') return tf.ones(shape as number[]);
  return tf.randomNormal(shape as number[], 0, init.std, 'float32', seed);
}

/**
 * Embedding lookup whose gradient is a `scatterND` (summing repeated ids): the cpu backend's own gradient of
 * `gather` loops over the whole vocabulary per call, which made a 40-step check take minutes.
 */
function lookup(tf: TF, table: Variable, ids: Tensor): Tensor2D {
  const rows = ids.shape[0]!;
  const shape = table.shape as [number, number];
  const op = tf.customGrad((input, save) => {
    (save as (t: Tensor[]) => void)([ids]);
    return {
      value: tf.gather(input as Tensor2D, ids),
      gradFunc: (dy: Tensor, saved: Tensor[]) => tf.scatterND(tf.reshape(saved[0]!, [rows, 1]), dy, shape),
    };
  });
  return op(table) as Tensor2D;
}

export function testHeadContext(tf: TF, options: TestModelOptions): TestHeadContext {
  const dModel = options.dModel ?? 16;
  const model: ModelInfo = {
    architecture: options.architecture ?? 'encoder',
    vocabSize: options.vocabSize,
    seqLen: options.seqLen,
    dModel,
    nLayers: 1,
    nHeads: 1,
  };
  const prefix = options.prefix ?? 'objective';
  let seed = options.seed ?? 1;
  const variables = new Map<string, Variable>();
  const make = (name: string, shape: readonly number[], init: Init): Variable => {
    if (variables.has(name)) throw new RangeError(`test context: variable ${name} created twice`);
    const v = tf.variable(initTensor(tf, shape, init, seed++), true);
    variables.set(name, v);
    return v;
  };
  const wordEmbeddings = make('backbone/word_embeddings', [options.vocabSize, dModel], { kind: 'normal', std: 0.02 });
  const positions = make('backbone/position_embeddings', [options.seqLen, dModel], { kind: 'normal', std: 0.02 });
  const types = make('backbone/type_embeddings', [2, dModel], { kind: 'normal', std: 0.02 });

  const backboneOf = (name: string, width: number): Backbone => {
    const project = width === dModel ? undefined : make(`${name}/project`, [dModel, width], { kind: 'normal', std: 0.1 });
    const kernel = make(`${name}/kernel`, [width, width], { kind: 'normal', std: 1 / Math.sqrt(width) });
    const bias = make(`${name}/bias`, [width], { kind: 'zeros' });
    return {
      dModel: width,
      vocabSize: options.vocabSize,
      apply(inputs: BackboneInputs): Tensor3D {
        return tf.tidy(() => {
          const [b, l] = inputs.inputIds.shape;
          const ids = tf.reshape(inputs.inputIds, [b * l]);
          let x = tf.reshape(lookup(tf, wordEmbeddings, ids), [b, l, dModel]) as Tensor3D;
          x = tf.add(x, tf.slice(positions, [0, 0], [l, dModel])) as Tensor3D;
          if (inputs.tokenTypeIds) {
            x = tf.add(x, tf.reshape(lookup(tf, types, tf.reshape(inputs.tokenTypeIds, [b * l])), [b, l, dModel])) as Tensor3D;
          }
          let h = tf.reshape(x, [b * l, dModel]) as Tensor2D;
          if (project) h = tf.matMul(h, project as unknown as Tensor2D);
          h = tf.tanh(tf.add(tf.matMul(h, kernel as unknown as Tensor2D), bias)) as Tensor2D;
          let out = tf.reshape(h, [b, l, width]) as Tensor3D;
          const mask = inputs.attentionMask
            ? tf.reshape(tf.cast(inputs.attentionMask, 'float32'), [b, l, 1])
            : tf.ones([b, l, 1]);
          const mean = tf.div(tf.sum(tf.mul(out, mask), 1, true), tf.maximum(tf.sum(mask, 1, true), 1));
          out = tf.add(out, mean) as Tensor3D;
          return out;
        });
      },
    };
  };
  const backbone = backboneOf('backbone', dModel);
  const view = (objective: string): HeadContext => ({
    tf,
    model,
    wordEmbeddings,
    backbone,
    variable: (name, shape, init) => make(`${objective}/${name}`, shape, init),
    extraBackbone: (name, { widthFactor }) => backboneOf(`${objective}/${name}`, Math.max(1, Math.round(dModel * widthFactor))),
  });
  return {
    ...view(prefix),
    variables,
    forObjective: view,
    dispose: () => {
      for (const v of variables.values()) v.dispose();
    },
  };
}

/** The batch's columns as tensors (int32 for integer columns, float32 for float ones), as the trainer makes them. */
export function batchTensors(tf: TF, batch: Batch): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, column] of Object.entries(batch.columns)) {
    const perToken = column.length === batch.size * batch.seqLen && column.length !== batch.size;
    const shape = perToken ? [batch.size, batch.seqLen] : [batch.size];
    out[name] = column instanceof Float32Array ? tf.tensor(column, shape, 'float32') : tf.tensor(Int32Array.from(column), shape, 'int32');
  }
  return out;
}

/** A forward context over a host batch, running `backbone` on the batch's own inputs once, on first use. */
export function testForwardContext(
  tf: TF,
  batch: Batch,
  backbone: Backbone,
  options: { training?: boolean; seed?: number; hidden?: () => Tensor3D } = {},
): ForwardContext {
  const tensors = batchTensors(tf, batch);
  let hidden: Tensor3D | undefined;
  return {
    tf,
    training: options.training ?? true,
    batch: tensors,
    size: batch.size,
    seqLen: batch.seqLen,
    seed: options.seed ?? 0,
    hidden() {
      if (!hidden) {
        hidden =
          options.hidden?.() ??
          backbone.apply(
            {
              inputIds: tensors.input_ids as Tensor2D,
              ...(tensors.attention_mask ? { attentionMask: tensors.attention_mask as Tensor2D } : {}),
              ...(tensors.token_type_ids ? { tokenTypeIds: tensors.token_type_ids as Tensor2D } : {}),
            },
            options.training ?? true,
          );
      }
      return hidden;
    },
  };
}

/** Rows `[from, to)` of a host batch (micro-batches for accumulation checks). */
export function sliceBatch(batch: Batch, from: number, to: number): Batch {
  const columns: Record<string, Int32Array | Uint8Array | Float32Array> = {};
  for (const [name, column] of Object.entries(batch.columns)) {
    const per = column.length / batch.size;
    columns[name] = column.slice(from * per, to * per);
  }
  return { size: to - from, seqLen: batch.seqLen, columns };
}

import {
  ConfigError,
  Rng,
  seedFromString,
  type Backbone,
  type BackboneInputs,
  type Init,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
  type Variable,
} from '@pretext/core';
import type { Ops } from './ops.js';

/** Shape of a transformer. */
export interface ModelConfig {
  architecture: 'encoder' | 'decoder';
  dModel: number;
  nLayers: number;
  nHeads: number;
  dFF: number;
  maxPositions: number;
  dropout: number;
  /** Segment (token type) vocabulary of an encoder; BERT uses 2. Default 2 for encoders, 0 for decoders. */
  typeVocabSize?: number;
  /** Pre-LayerNorm blocks with a final LayerNorm (GPT-2) instead of post-LayerNorm (BERT). Default: true for decoders, false for encoders. */
  preLayerNorm?: boolean;
  /** Output layers tied to the word embeddings. Always true for now (every objective's head ties). */
  tieEmbeddings?: boolean;
  /**
   * Standard deviation of the normal initialisation of every kernel and embedding table (Hugging Face's
   * `initializer_range`). Default 0.02, BERT's and GPT-2's value, chosen for d 768; models a few dozen wide
   * learn pair tasks sooner with about 1/√dModel (see docs/fine-tuning.md, "the [CLS] plateau").
   */
  initializerRange?: number;
}

/**
 * Named sizes. GPT sizes follow minGPT (`gpt-nano`, `gpt-micro`, `gpt-mini`) and GPT-2 (`gpt-small`); BERT sizes are
 * Google's BERT miniatures (Turc et al. 2019); `electra-small` is ELECTRA-Small's discriminator (its 128-wide
 * factorised embedding is not modelled: the embedding width equals `dModel`). `gpt-demo` is sized for the demo:
 * measured in the README for 2 CPU cores on wasm.
 */
export const MODEL_PRESETS: Record<string, ModelConfig> = {
  'gpt-demo': { architecture: 'decoder', dModel: 128, nLayers: 2, nHeads: 4, dFF: 512, maxPositions: 128, dropout: 0, preLayerNorm: true, tieEmbeddings: true },
  'gpt-nano': { architecture: 'decoder', dModel: 48, nLayers: 3, nHeads: 3, dFF: 192, maxPositions: 256, dropout: 0.1, preLayerNorm: true, tieEmbeddings: true },
  'gpt-micro': { architecture: 'decoder', dModel: 128, nLayers: 4, nHeads: 4, dFF: 512, maxPositions: 256, dropout: 0.1, preLayerNorm: true, tieEmbeddings: true },
  'gpt-mini': { architecture: 'decoder', dModel: 192, nLayers: 6, nHeads: 6, dFF: 768, maxPositions: 512, dropout: 0.1, preLayerNorm: true, tieEmbeddings: true },
  'gpt-small': { architecture: 'decoder', dModel: 768, nLayers: 12, nHeads: 12, dFF: 3072, maxPositions: 1024, dropout: 0.1, preLayerNorm: true, tieEmbeddings: true },
  'bert-tiny': { architecture: 'encoder', dModel: 128, nLayers: 2, nHeads: 2, dFF: 512, maxPositions: 512, dropout: 0.1, typeVocabSize: 2, preLayerNorm: false, tieEmbeddings: true },
  'bert-mini': { architecture: 'encoder', dModel: 256, nLayers: 4, nHeads: 4, dFF: 1024, maxPositions: 512, dropout: 0.1, typeVocabSize: 2, preLayerNorm: false, tieEmbeddings: true },
  'bert-small': { architecture: 'encoder', dModel: 512, nLayers: 4, nHeads: 8, dFF: 2048, maxPositions: 512, dropout: 0.1, typeVocabSize: 2, preLayerNorm: false, tieEmbeddings: true },
  'electra-small': { architecture: 'encoder', dModel: 256, nLayers: 12, nHeads: 4, dFF: 1024, maxPositions: 512, dropout: 0.1, typeVocabSize: 2, preLayerNorm: false, tieEmbeddings: true },
};

/** A preset name or explicit dimensions, checked, with defaults filled in. */
export function resolveModelConfig(model: string | ModelConfig, architecture: 'encoder' | 'decoder'): Required<ModelConfig> {
  let config: ModelConfig;
  if (typeof model === 'string') {
    const preset = MODEL_PRESETS[model];
    if (!preset) throw new ConfigError('model', model, `a preset (${Object.keys(MODEL_PRESETS).join(', ')}) or explicit dimensions`);
    config = preset;
  } else {
    config = model;
  }
  if (config.architecture !== architecture) {
    throw new ConfigError('model.architecture', config.architecture, `"${architecture}" because the objectives need a${architecture === 'encoder' ? 'n encoder' : ' decoder'}; pick a matching preset`);
  }
  const positiveInt = (key: keyof ModelConfig, value: unknown) => {
    if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) throw new ConfigError(`model.${key}`, value, 'a positive integer');
  };
  positiveInt('dModel', config.dModel);
  positiveInt('nLayers', config.nLayers);
  positiveInt('nHeads', config.nHeads);
  positiveInt('dFF', config.dFF);
  positiveInt('maxPositions', config.maxPositions);
  if (config.dModel % config.nHeads !== 0) throw new ConfigError('model.nHeads', config.nHeads, `a divisor of dModel=${config.dModel}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new ConfigError('model.dropout', config.dropout, 'a number in [0, 1)');
  if (config.initializerRange !== undefined && !(typeof config.initializerRange === 'number' && config.initializerRange > 0 && config.initializerRange < 1)) {
    throw new ConfigError('model.initializerRange', config.initializerRange, 'a number in (0, 1), e.g. 0.02');
  }
  if (config.tieEmbeddings === false) throw new ConfigError('model.tieEmbeddings', false, 'true: untied output layers are not supported yet');
  return {
    architecture: config.architecture,
    dModel: config.dModel,
    nLayers: config.nLayers,
    nHeads: config.nHeads,
    dFF: config.dFF,
    maxPositions: config.maxPositions,
    dropout: config.dropout,
    typeVocabSize: config.typeVocabSize ?? (config.architecture === 'encoder' ? 2 : 0),
    preLayerNorm: config.preLayerNorm ?? config.architecture === 'decoder',
    tieEmbeddings: true,
    initializerRange: config.initializerRange ?? 0.02,
  };
}

/** One trainable tensor with the facts the optimizer and exporter need. */
export interface Parameter {
  readonly name: string;
  readonly variable: Variable;
  /** AdamW decays matrices (kernels, embedding tables) but not biases or LayerNorm parameters. */
  readonly decay: boolean;
}

/**
 * Every parameter of a model, by name. Initial values come from a per-name seeded Rng on the host, so they do not
 * depend on creation order or on the backend.
 */
export class ParameterStore {
  readonly params = new Map<string, Parameter>();
  constructor(private readonly ops: Ops, private readonly seed: number) {}

  create(name: string, shape: readonly number[], init: Init, decay = shape.length >= 2): Variable {
    if (this.params.has(name)) throw new ConfigError('parameter', name, 'a unique parameter name (two parts of the model created the same one)');
    for (const d of shape) if (!(Number.isInteger(d) && d > 0)) throw new ConfigError(`parameter ${name} shape`, shape, 'positive integer dimensions');
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (init.kind === 'ones') values.fill(1);
    else if (init.kind === 'normal') {
      const rng = new Rng(seedFromString(name, this.seed));
      for (let i = 0; i < size; i++) values[i] = rng.normal() * init.std;
    }
    const { tf } = this.ops;
    // Unnamed tf variables: several models may live in one process (tests), and tf's names are global.
    const variable = tf.variable(tf.tensor(values, [...shape], 'float32'), true);
    this.params.set(name, { name, variable, decay });
    return variable;
  }

  get(name: string): Variable {
    const p = this.params.get(name);
    if (!p) throw new ConfigError('parameter', name, 'an existing parameter');
    return p.variable;
  }

  list(): Parameter[] {
    return [...this.params.values()];
  }

  count(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.variable.size;
    return n;
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}

/** Embedding tables shared by every backbone of a model (ELECTRA's generator shares them with the discriminator). */
export interface EmbeddingTables {
  readonly word: Variable;
  readonly position: Variable;
  readonly type?: Variable;
  readonly width: number;
}

export interface BackboneShape {
  readonly dModel: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly dFF: number;
  readonly dropout: number;
  readonly preLayerNorm: boolean;
  readonly causal: boolean;
  /** Normal initialisation's standard deviation for kernels. */
  readonly initializerRange: number;
}

/** Seeds for dropout: one base per step, one increment per dropout call, so a run is reproducible. */
export class DropoutSeeds {
  private base = 0;
  private counter = 0;
  reset(base: number): void {
    this.base = base >>> 0;
    this.counter = 0;
  }
  next(): number {
    return (this.base + 0x9e3779b9 * ++this.counter) >>> 0;
  }
}

const NEG_INF = -1e9;

/**
 * A GPT- or BERT-style transformer from raw tf ops. Hidden states stay `[batch·seq, d]` between blocks so every
 * dense layer is one plain 2-D matMul; attention runs as batched matMuls over `[batch·heads, seq, headDim]`.
 *
 * Parameter names (`<prefix>/…`): `wte`, `wpe`, `wtt` (encoder), `emb_proj/{kernel,bias}` (when the width differs
 * from the shared tables), `emb_ln/{gamma,beta}` (post-LN), `h<i>/ln_1`, `h<i>/attn/{q,k,v,proj}/{kernel,bias}`,
 * `h<i>/ln_2`, `h<i>/mlp/{fc,proj}/{kernel,bias}`, `ln_f` (pre-LN). The Hugging Face mapping is in `export.ts`.
 */
export class TransformerBackbone implements Backbone {
  readonly vocabSize: number;
  constructor(
    private readonly ops: Ops,
    private readonly store: ParameterStore,
    readonly prefix: string,
    readonly shape: BackboneShape,
    readonly embeddings: EmbeddingTables,
    private readonly seeds: DropoutSeeds,
  ) {
    this.vocabSize = embeddings.word.shape[0]!;
    const { dModel, nLayers, dFF, preLayerNorm } = shape;
    const std = shape.initializerRange;
    // GPT-2 scales residual projections by 1/√(2·layers) so the residual stream's variance does not grow with depth.
    const residualStd = preLayerNorm ? std / Math.sqrt(2 * nLayers) : std;
    const p = (n: string) => `${prefix}/${n}`;
    if (embeddings.width !== dModel) {
      store.create(p('emb_proj/kernel'), [embeddings.width, dModel], { kind: 'normal', std });
      store.create(p('emb_proj/bias'), [dModel], { kind: 'zeros' });
    }
    if (!preLayerNorm) {
      store.create(p('emb_ln/gamma'), [dModel], { kind: 'ones' });
      store.create(p('emb_ln/beta'), [dModel], { kind: 'zeros' });
    }
    for (let i = 0; i < nLayers; i++) {
      const h = (n: string) => p(`h${i}/${n}`);
      store.create(h('ln_1/gamma'), [dModel], { kind: 'ones' });
      store.create(h('ln_1/beta'), [dModel], { kind: 'zeros' });
      for (const part of ['q', 'k', 'v']) {
        store.create(h(`attn/${part}/kernel`), [dModel, dModel], { kind: 'normal', std });
        store.create(h(`attn/${part}/bias`), [dModel], { kind: 'zeros' });
      }
      store.create(h('attn/proj/kernel'), [dModel, dModel], { kind: 'normal', std: residualStd });
      store.create(h('attn/proj/bias'), [dModel], { kind: 'zeros' });
      store.create(h('ln_2/gamma'), [dModel], { kind: 'ones' });
      store.create(h('ln_2/beta'), [dModel], { kind: 'zeros' });
      store.create(h('mlp/fc/kernel'), [dModel, dFF], { kind: 'normal', std });
      store.create(h('mlp/fc/bias'), [dFF], { kind: 'zeros' });
      store.create(h('mlp/proj/kernel'), [dFF, dModel], { kind: 'normal', std: residualStd });
      store.create(h('mlp/proj/bias'), [dModel], { kind: 'zeros' });
    }
    if (preLayerNorm) {
      store.create(p('ln_f/gamma'), [dModel], { kind: 'ones' });
      store.create(p('ln_f/beta'), [dModel], { kind: 'zeros' });
    }
  }

  get dModel(): number {
    return this.shape.dModel;
  }

  private v(name: string): Variable {
    return this.store.get(`${this.prefix}/${name}`);
  }

  private dropout(x: Tensor, training: boolean): Tensor {
    const rate = this.shape.dropout;
    if (!training || rate === 0) return x;
    return this.ops.tf.dropout(x, rate, undefined, this.seeds.next());
  }

  apply(inputs: BackboneInputs, training: boolean): Tensor3D {
    const { tf, linear, layerNorm, gelu, matMul, embed } = this.ops;
    const { dModel, nHeads, nLayers, preLayerNorm } = this.shape;
    const [batch, seq] = inputs.inputIds.shape as [number, number];
    const maxPositions = this.embeddings.position.shape[0]!;
    if (seq > maxPositions) throw new ConfigError('seqLen', seq, `at most the model's maxPositions=${maxPositions}`);
    const headDim = dModel / nHeads;
    const rows = batch * seq;

    // Embeddings: word + position (+ segment), as [rows, width].
    const positionIds = inputs.positionIds ?? tf.tile(tf.expandDims(tf.range(0, seq, 1, 'int32'), 0), [batch, 1]);
    let x = tf.add(embed(this.embeddings.word, tf.reshape(inputs.inputIds, [rows])), embed(this.embeddings.position, tf.reshape(positionIds, [rows])));
    if (this.embeddings.type) {
      const types = inputs.tokenTypeIds ?? tf.zeros([batch, seq], 'int32');
      x = tf.add(x, embed(this.embeddings.type, tf.reshape(types, [rows])));
    }
    if (this.embeddings.width !== dModel) x = linear(x, this.v('emb_proj/kernel'), this.v('emb_proj/bias'));
    if (!preLayerNorm) x = layerNorm(x, this.v('emb_ln/gamma'), this.v('emb_ln/beta'), 1e-12);
    x = this.dropout(x, training);

    const bias = this.attentionBias(inputs, batch, seq); // [batch or 1, 1, seq, seq]
    const scale = 1 / Math.sqrt(headDim);
    const eps = preLayerNorm ? 1e-5 : 1e-12;

    const attention = (h: Tensor, i: number): Tensor => {
      // Separate q, k, v projections, each [rows, d] → [b·h, seq, hd] with rank-4 transposes: a fused qkv needs a
      // rank-5 transpose, which wasm runs 20× slower per element (166 ms for [16,128,3,4,32]).
      const project = (part: string, perm: number[], shape: number[]) =>
        tf.reshape(
          tf.transpose(tf.reshape(linear(h, this.v(`h${i}/attn/${part}/kernel`), this.v(`h${i}/attn/${part}/bias`)), [batch, seq, nHeads, headDim]), perm),
          shape,
        );
      const q = project('q', [0, 2, 1, 3], [batch * nHeads, seq, headDim]);
      // Keys as [b·h, headDim, seq] so q·kᵀ is a plain batched matMul.
      const kT = project('k', [0, 2, 3, 1], [batch * nHeads, headDim, seq]);
      const v = project('v', [0, 2, 1, 3], [batch * nHeads, seq, headDim]);
      let scores = tf.reshape(matMul(tf.mul(q, scale), kT), [batch, nHeads, seq, seq]);
      if (bias) scores = tf.add(scores, bias);
      const probs = this.dropout(tf.softmax(scores), training);
      const context = matMul(tf.reshape(probs, [batch * nHeads, seq, seq]), v);
      const merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, nHeads, seq, headDim]), [0, 2, 1, 3]), [rows, dModel]);
      return this.dropout(linear(merged, this.v(`h${i}/attn/proj/kernel`), this.v(`h${i}/attn/proj/bias`)), training);
    };
    const mlp = (h: Tensor, i: number): Tensor => {
      const inner = gelu(linear(h, this.v(`h${i}/mlp/fc/kernel`), this.v(`h${i}/mlp/fc/bias`)));
      return this.dropout(linear(inner, this.v(`h${i}/mlp/proj/kernel`), this.v(`h${i}/mlp/proj/bias`)), training);
    };

    for (let i = 0; i < nLayers; i++) {
      const ln1 = (t: Tensor) => layerNorm(t, this.v(`h${i}/ln_1/gamma`), this.v(`h${i}/ln_1/beta`), eps);
      const ln2 = (t: Tensor) => layerNorm(t, this.v(`h${i}/ln_2/gamma`), this.v(`h${i}/ln_2/beta`), eps);
      if (preLayerNorm) {
        x = tf.add(x, attention(ln1(x), i));
        x = tf.add(x, mlp(ln2(x), i));
      } else {
        // BERT: ln_1 follows attention, ln_2 follows the MLP.
        x = ln1(tf.add(x, attention(x, i)));
        x = ln2(tf.add(x, mlp(x, i)));
      }
    }
    if (preLayerNorm) x = layerNorm(x, this.v('ln_f/gamma'), this.v('ln_f/beta'), eps);
    return tf.reshape(x, [batch, seq, dModel]) as Tensor3D;
  }

  /**
   * Additive attention bias: 0 where a query may see a key, a large negative number elsewhere (causal, padding,
   * other documents). Built from float masks added together (a few small tensors) rather than boolean ops, which
   * wasm runs slowly; `[batch or 1, 1, seq, seq]`.
   */
  private attentionBias(inputs: BackboneInputs, batch: number, seq: number): Tensor | null {
    const { tf } = this.ops;
    let bias: Tensor | null = null;
    const add = (t: Tensor) => (bias = bias ? tf.add(bias, t) : t);
    if (this.shape.causal) {
      add(tf.reshape(tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([seq, seq]), -1, 0)), NEG_INF), [1, 1, seq, seq]));
    }
    if (inputs.attentionMask) {
      add(tf.reshape(tf.mul(tf.sub(1, tf.cast(inputs.attentionMask, 'float32')), NEG_INF), [batch, 1, 1, seq]));
    }
    if (inputs.documentIds) {
      const d = tf.cast(inputs.documentIds, 'float32');
      const same = tf.equal(tf.reshape(d, [batch, 1, seq, 1]), tf.reshape(d, [batch, 1, 1, seq]));
      add(tf.mul(tf.sub(1, tf.cast(same, 'float32')), NEG_INF));
    }
    return bias;
  }
}

/** Builds the main model's embedding tables and backbone. */
export function buildBackbone(
  ops: Ops,
  store: ParameterStore,
  config: Required<ModelConfig>,
  vocabSize: number,
  seeds: DropoutSeeds,
): TransformerBackbone {
  const std = config.initializerRange;
  const word = store.create('backbone/wte', [vocabSize, config.dModel], { kind: 'normal', std });
  // GPT-2 initialises positions with half the range (0.01); BERT uses the same range for every table.
  const position = store.create('backbone/wpe', [config.maxPositions, config.dModel], { kind: 'normal', std: config.architecture === 'decoder' ? std / 2 : std });
  const type = config.typeVocabSize > 0 ? store.create('backbone/wtt', [config.typeVocabSize, config.dModel], { kind: 'normal', std }) : undefined;
  const embeddings: EmbeddingTables = type ? { word, position, type, width: config.dModel } : { word, position, width: config.dModel };
  return new TransformerBackbone(
    ops,
    store,
    'backbone',
    {
      dModel: config.dModel,
      nLayers: config.nLayers,
      nHeads: config.nHeads,
      dFF: config.dFF,
      dropout: config.dropout,
      preLayerNorm: config.preLayerNorm,
      causal: config.architecture === 'decoder',
      initializerRange: config.initializerRange,
    },
    embeddings,
    seeds,
  );
}

/** ELECTRA's generator: same depth, `widthFactor` of the width, heads of 64 (at least one), shared tables. */
export function buildExtraBackbone(
  ops: Ops,
  store: ParameterStore,
  main: TransformerBackbone,
  prefix: string,
  widthFactor: number,
  seeds: DropoutSeeds,
): TransformerBackbone {
  if (!(widthFactor > 0 && widthFactor <= 1)) throw new ConfigError(`${prefix}.widthFactor`, widthFactor, 'a number in (0, 1]');
  const dModel = Math.max(1, Math.round(main.shape.dModel * widthFactor));
  let nHeads = Math.max(1, Math.round(dModel / 64));
  while (dModel % nHeads !== 0) nHeads--;
  return new TransformerBackbone(
    ops,
    store,
    prefix,
    { ...main.shape, dModel, nHeads, dFF: 4 * dModel },
    main.embeddings,
    seeds,
  );
}

export type { Tensor2D };

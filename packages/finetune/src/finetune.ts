import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ConfigError,
  NonFiniteLossError,
  Rng,
  TokenizerError,
  composeObjectives,
  seedFromString,
  type Batch,
  type SpecialTokens,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
  type TF,
} from '@pretext/core';
import { loadTokenizer, type Tokenizer } from '@pretext/tokenizers';
import { MODEL_PRESETS, learningRateAt, resolveModelConfig, selectBackend, writeSafetensors, type BackendName, type ModelConfig, type NamedTensor } from '@pretext/trainer';
import { CLASS_LABEL, classifier, type Classifier, type Pooling } from './head.js';
import { trainerInternals, type Session } from './internals.js';
import { readLabelled, type LabelledDataset } from './labelled.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import { renderConfusionMatrix } from './plot.js';
import { loadPretrained, type Pretrained } from './pretrained.js';
import { spamAssassin } from './spam-assassin.js';
import { stratifiedSplit, trainSubset, type SplitOptions } from './split.js';

export interface FinetuneProgress {
  readonly phase: 'train' | 'eval' | 'test';
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  /** Training loss of the last step (NaN before the first). */
  readonly loss: number;
  readonly lr: number;
  /** Validation metrics on `eval` events. */
  readonly validation?: { loss: number; accuracy: number; macroF1: number };
}

export interface FinetuneOptions {
  /** A run folder or `checkpoints/step-N` folder written by `pretext train`, or `scratch` for random weights. */
  readonly from: string;
  /** Labelled data: a dataset, a `.csv`/`.jsonl` file or per-label folder, or `spam-assassin`. */
  readonly data: LabelledDataset | string;
  /** The tokenizer the checkpoint was pre-trained with (tokenizer.json or a loaded one). */
  readonly tokenizer: Tokenizer | string;
  /** `scratch` only: the model (a preset name or dimensions). Default `bert-tiny`. */
  readonly model?: string | ModelConfig;
  /** Output folder: config.json, history.jsonl, metrics.json, confusion.svg (and model.safetensors). Optional. */
  readonly outDir?: string;
  /** Default: `cls` for encoders, `last` for decoders. */
  readonly pooling?: Pooling;
  /** Tokens per row. Default: the pre-training sequence length (scratch: min(128, maxPositions)). */
  readonly seqLen?: number;
  /** Peak learning rate. Default 1e-4 (the BERT miniatures' fine-tuning grid holds 1e-4, 5e-5, 3e-5). */
  readonly learningRate?: number;
  /** Passes over the training rows. Default 4 (as the BERT miniatures). */
  readonly epochs?: number;
  /** At least this many optimizer steps (more epochs for small subsets). Default 0. */
  readonly minSteps?: number;
  /** Rows per step. Default 32. */
  readonly batchSize?: number;
  /** Share of the steps spent warming up linearly; then linear decay to 0 (BERT). Default 0.1. */
  readonly warmupFraction?: number;
  /** Default 0.01 (none on biases and LayerNorm). */
  readonly weightDecay?: number;
  /** Global-norm clipping. Default 1. */
  readonly clipNorm?: number;
  /** Validation every N steps (and at the start and end). Default: max(one epoch, a tenth of the steps). */
  readonly evalEvery?: number;
  /** Stop after this many validations without improvement. Default 3; 0 never stops early. */
  readonly patience?: number;
  /** Validation quantity that picks the best weights. Default `loss` (smoother than F1 on small sets). */
  readonly selectBy?: 'loss' | 'macroF1' | 'accuracy';
  /** The fixed train/validation/test split. */
  readonly split?: SplitOptions;
  /** Train on this share of the training split (per label, nested). Default 1. */
  readonly trainFraction?: number;
  /** Seeds the head's initialisation, data order and dropout (and the whole model for scratch). Default 0. */
  readonly seed?: number;
  /** Start the classifier's pooler from the checkpoint's nsp/sop pooler when there is one (BERT does). Default true. */
  readonly reusePooler?: boolean;
  /** Write the fine-tuned weights to outDir/model.safetensors. Default false. */
  readonly saveModel?: boolean;
  readonly backend?: BackendName;
  readonly onProgress?: (event: FinetuneProgress) => void;
}

export interface FinetuneResult {
  readonly from: string;
  readonly pretrained: { objectives: readonly string[]; step: number; checkpoint: string } | null;
  readonly architecture: 'encoder' | 'decoder';
  readonly pooling: Pooling;
  readonly labelNames: readonly string[];
  readonly sizes: { train: number; validation: number; test: number };
  readonly steps: number;
  /** Step whose weights were kept (best validation). */
  readonly bestStep: number;
  readonly stoppedEarly: boolean;
  readonly validation: ClassificationMetrics & { loss: number };
  readonly test: ClassificationMetrics & { loss: number };
  /** Test accuracy of always answering the training subset's most frequent label. */
  readonly majorityAccuracy: number;
  /** Parameter names loaded from the checkpoint (empty for scratch). */
  readonly loaded: readonly string[];
  readonly seconds: number;
  readonly backend: BackendName;
  readonly files?: { config: string; history: string; metrics: string; plot: string; model?: string };
}

interface Encoded {
  readonly ids: Int32Array;
  readonly mask: Uint8Array;
  readonly seqLen: number;
}

/**
 * Fine-tunes a pre-trained (or freshly initialised) transformer for text classification: the trainer's own model
 * with a classification head (pooled [CLS] + dense/tanh pooler for encoders, last token or mean for decoders),
 * AdamW with warmup and linear decay, validation-based early stopping that keeps the best weights, and
 * accuracy, macro F1 and a confusion matrix on a fixed, stratified test split.
 */
export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const started = performance.now();
  const internals = await trainerInternals();
  const tokenizer = typeof options.tokenizer === 'string' ? await loadTokenizer(options.tokenizer) : options.tokenizer;
  const tokenizerName = typeof options.tokenizer === 'string' ? options.tokenizer : '<tokenizer>';
  const data = typeof options.data === 'string' ? await loadData(options.data) : options.data;

  const scratch = options.from === 'scratch';
  const built = await buildClassifierModel({
    from: options.from,
    tokenizer,
    tokenizerName,
    numLabels: data.labelNames.length,
    seed: options.seed ?? 0,
    ...pick(options, ['model', 'pooling', 'seqLen', 'backend', 'reusePooler']),
  });
  const { session, head, pretrained, model, pooling, seqLen, special, loaded, backend } = built;
  const { tf } = backend;
  const architecture = model.architecture;
  const batchSize = positiveInt('batchSize', options.batchSize ?? 32);
  const epochs = positiveInt('epochs', options.epochs ?? 4);
  const learningRate = positive('learningRate', options.learningRate ?? 1e-4);
  const warmupFraction = options.warmupFraction ?? 0.1;
  if (!(warmupFraction >= 0 && warmupFraction < 1)) throw new ConfigError('warmupFraction', warmupFraction, 'a number in [0, 1)');
  const weightDecay = options.weightDecay ?? 0.01;
  const clipNorm = options.clipNorm ?? 1;
  const patience = options.patience ?? 3;
  const selectBy = options.selectBy ?? 'loss';
  const seed = options.seed ?? 0;
  const trainFraction = options.trainFraction ?? 1;

  const split = stratifiedSplit(data.labels, options.split);
  const trainRows = trainSubset(split, data.labels, trainFraction);
  if (split.validation.length === 0 || split.test.length === 0) {
    throw new ConfigError('split', options.split ?? {}, `shares that leave validation and test rows (${data.texts.length} rows in ${data.source})`);
  }
  const encoded = encodeAll(tokenizer, data.texts, seqLen, architecture, special);

  const stepsPerEpoch = Math.ceil(trainRows.length / batchSize);
  const totalSteps = Math.max(stepsPerEpoch * epochs, options.minSteps ?? 0);
  const warmupSteps = Math.round(totalSteps * warmupFraction);
  const evalEvery = positiveInt('evalEvery', options.evalEvery ?? Math.max(stepsPerEpoch, Math.ceil(totalSteps / 10)));

  const optimizer = new internals.AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay });
  const files = options.outDir
    ? {
        config: path.join(options.outDir, 'config.json'),
        history: path.join(options.outDir, 'history.jsonl'),
        metrics: path.join(options.outDir, 'metrics.json'),
        plot: path.join(options.outDir, 'confusion.svg'),
        ...(options.saveModel ? { model: path.join(options.outDir, 'model.safetensors') } : {}),
      }
    : undefined;
  try {
    if (files) {
      await mkdir(options.outDir!, { recursive: true });
      await writeFile(files.history, '');
      await writeFile(
        files.config,
        `${JSON.stringify(
          {
            from: options.from,
            checkpoint: pretrained?.checkpointDir ?? null,
            pretrainedObjectives: pretrained?.objectives ?? [],
            data: data.source,
            labelNames: data.labelNames,
            model,
            pooling,
            seqLen,
            batchSize,
            epochs,
            minSteps: options.minSteps ?? 0,
            totalSteps,
            learningRate,
            warmupSteps,
            weightDecay,
            clipNorm,
            evalEvery,
            patience,
            selectBy,
            split: { validation: 0.1, test: 0.2, seed: 1234, ...options.split },
            trainFraction,
            seed,
            backend: { name: backend.name, reason: backend.reason },
          },
          null,
          2,
        )}\n`,
      );
    }

    const batchOf = (rows: ArrayLike<number>): Batch => {
      const n = rows.length;
      const ids = new Int32Array(n * seqLen);
      const mask = new Uint8Array(n * seqLen);
      const label = new Int32Array(n);
      for (let r = 0; r < n; r++) {
        const i = rows[r]!;
        ids.set(encoded.ids.subarray(i * seqLen, (i + 1) * seqLen), r * seqLen);
        mask.set(encoded.mask.subarray(i * seqLen, (i + 1) * seqLen), r * seqLen);
        label[r] = data.labels[i]!;
      }
      return { size: n, seqLen, columns: { input_ids: ids, attention_mask: mask, token_type_ids: new Int32Array(n * seqLen), [CLASS_LABEL]: label } };
    };

    /** Predictions and mean loss over rows, without dropout, in batches. */
    const predict = (rows: Int32Array): { predicted: Int32Array; loss: number } => {
      const predicted = new Int32Array(rows.length);
      let lossSum = 0;
      const chunk = Math.max(batchSize, 64);
      for (let start = 0; start < rows.length; start += chunk) {
        const batch = batchOf(rows.subarray(start, start + chunk));
        const [pred, loss] = tf.tidy(() => {
          const inputIds = tf.tensor2d(batch.columns['input_ids'] as Int32Array, [batch.size, seqLen], 'int32');
          const mask = tf.tensor2d(Int32Array.from(batch.columns['attention_mask']!), [batch.size, seqLen], 'int32');
          const hidden = session.backbone.apply({ inputIds, attentionMask: mask, tokenTypeIds: tf.zeros([batch.size, seqLen], 'int32') as Tensor2D }, false) as Tensor3D;
          const logits = head.logits(tf, hidden, mask, false);
          const target = tf.tensor1d(batch.columns[CLASS_LABEL] as Int32Array, 'int32');
          const ce = tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, tf.oneHot(target, data.labelNames.length)), 1));
          return [tf.argMax(logits, 1), tf.sum(ce)] as [Tensor, Tensor];
        });
        predicted.set(pred.dataSync() as Int32Array, start);
        lossSum += loss.dataSync()[0]!;
        pred.dispose();
        loss.dispose();
      }
      return { predicted, loss: lossSum / Math.max(1, rows.length) };
    };
    const evaluate = (rows: Int32Array) => {
      const { predicted, loss } = predict(rows);
      const truth = Int32Array.from(rows, (i) => data.labels[i]!);
      return { ...classificationMetrics(truth, predicted, data.labelNames), loss };
    };
    const score = (m: { loss: number; accuracy: number; macroF1: number }) => (selectBy === 'loss' ? -m.loss : selectBy === 'accuracy' ? m.accuracy : m.macroF1);

    const orderRng = new Rng(seedFromString('finetune-order', seed));
    let step = 0;
    let epoch = 0;
    let lastLoss = NaN;
    let best: { step: number; score: number; weights: Map<string, Tensor> } | null = null;
    let sinceBest = 0;
    let stoppedEarly = false;
    const snapshot = () => new Map(session.store.list().map((p) => [p.name, tf.clone(p.variable) as Tensor]));
    const validate = async () => {
      const val = evaluate(split.validation);
      const s = score(val);
      const improved = !best || s > best.score;
      if (improved) {
        if (best) for (const t of best.weights.values()) t.dispose();
        best = { step, score: s, weights: snapshot() };
        sinceBest = 0;
      } else {
        sinceBest++;
      }
      const row = { step, epoch, split: 'validation', loss: val.loss, accuracy: val.accuracy, macroF1: val.macroF1, best: improved };
      if (files) await appendFile(files.history, `${JSON.stringify(row)}\n`);
      options.onProgress?.({ phase: 'eval', step, totalSteps, epoch, loss: lastLoss, lr: 0, validation: { loss: val.loss, accuracy: val.accuracy, macroF1: val.macroF1 } });
    };

    await validate();
    training: while (step < totalSteps) {
      const order = orderRng.shuffle(Array.from(trainRows));
      for (let start = 0; start < order.length && step < totalSteps; start += batchSize) {
        const batch = batchOf(order.slice(start, start + batchSize));
        const g = session.gradients([batch], step + 1);
        const norm = internals.globalNorm(tf, g.grads);
        if (!Number.isFinite(g.loss) || !Number.isFinite(norm)) {
          for (const t of g.grads.values()) t.dispose();
          throw new NonFiniteLossError(step + 1, Number.isFinite(g.loss) ? norm : g.loss, null);
        }
        internals.clipByGlobalNorm(tf, g.grads, norm, clipNorm);
        const lr = learningRateAt(step + 1, { learningRate, warmupSteps, totalSteps, schedule: 'linear', minRatio: 0 });
        optimizer.apply(g.grads, lr);
        for (const t of g.grads.values()) t.dispose();
        step++;
        lastLoss = g.loss;
        if (files) await appendFile(files.history, `${JSON.stringify({ step, epoch, loss: g.loss, lr, grad_norm: norm })}\n`);
        options.onProgress?.({ phase: 'train', step, totalSteps, epoch, loss: g.loss, lr });
        if (step % evalEvery === 0 || step === totalSteps) {
          await validate();
          if (patience > 0 && sinceBest >= patience && step < totalSteps) {
            stoppedEarly = true;
            break training;
          }
        }
      }
      epoch++;
    }

    const kept = best as { step: number; score: number; weights: Map<string, Tensor> } | null;
    if (kept) {
      for (const p of session.store.list()) p.variable.assign(kept.weights.get(p.name)!);
      for (const t of kept.weights.values()) t.dispose();
    }
    options.onProgress?.({ phase: 'test', step, totalSteps, epoch, loss: lastLoss, lr: 0 });
    const validation = evaluate(split.validation);
    const test = evaluate(split.test);
    const counts = new Map<number, number>();
    for (const i of trainRows) counts.set(data.labels[i]!, (counts.get(data.labels[i]!) ?? 0) + 1);
    const majority = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    const majorityAccuracy = Array.from(split.test).filter((i) => data.labels[i] === majority).length / split.test.length;

    const result: FinetuneResult = {
      from: options.from,
      pretrained: pretrained ? { objectives: pretrained.objectives, step: pretrained.step, checkpoint: pretrained.checkpointDir } : null,
      architecture,
      pooling,
      labelNames: data.labelNames,
      sizes: { train: trainRows.length, validation: split.validation.length, test: split.test.length },
      steps: step,
      bestStep: kept?.step ?? step,
      stoppedEarly,
      validation,
      test,
      majorityAccuracy,
      loaded,
      seconds: (performance.now() - started) / 1000,
      backend: backend.name,
      ...(files ? { files } : {}),
    };
    if (files) {
      const { loaded: _l, ...summary } = result;
      await writeFile(files.metrics, `${JSON.stringify({ ...summary, loadedParameters: loaded.length }, null, 2)}\n`);
      await writeFile(files.plot, await renderConfusionMatrix(test.confusion, data.labelNames, `test confusion matrix · from ${scratch ? 'scratch' : (pretrained?.objectives.join('+') ?? '')} · accuracy ${(100 * test.accuracy).toFixed(1)}%, macro F1 ${test.macroF1.toFixed(3)}`));
      if (files.model) {
        const tensors = new Map<string, NamedTensor>();
        for (const p of session.store.list()) tensors.set(p.name, { dtype: 'F32', shape: p.variable.shape, data: p.variable.dataSync() as Float32Array });
        await writeSafetensors(files.model, tensors, { format: 'pt', producer: 'pretext-finetune', labels: JSON.stringify(data.labelNames) });
      }
    }
    return result;
  } finally {
    optimizer.dispose();
    session.dispose();
  }
}

export interface ClassifierModelOptions {
  readonly from: string;
  readonly tokenizer: Tokenizer;
  /** For messages. */
  readonly tokenizerName?: string;
  readonly numLabels: number;
  readonly seed: number;
  readonly model?: string | ModelConfig;
  readonly pooling?: Pooling;
  readonly seqLen?: number;
  readonly backend?: BackendName;
  readonly reusePooler?: boolean;
}

export interface ClassifierModel {
  readonly session: Session;
  readonly head: Classifier;
  readonly pretrained: Pretrained | null;
  readonly model: Required<ModelConfig>;
  readonly pooling: Pooling;
  readonly seqLen: number;
  readonly special: SpecialTokens;
  /** Parameters copied from the checkpoint. */
  readonly loaded: readonly string[];
  readonly backend: { name: BackendName; reason: string; tf: TF };
}

/**
 * The trainer's model with a classification head: the checkpoint's architecture and weights (`from` a run or
 * checkpoint folder), or `scratch`: `model`'s architecture with random weights seeded by `seed`. The caller disposes
 * `session`.
 */
export async function buildClassifierModel(options: ClassifierModelOptions): Promise<ClassifierModel> {
  const internals = await trainerInternals();
  const { tokenizer } = options;
  const pretrained: Pretrained | null = options.from === 'scratch' ? null : await loadPretrained(options.from);
  const model: Required<ModelConfig> = pretrained ? pretrained.model : resolveModelConfig(options.model ?? 'bert-tiny', architectureOf(options.model ?? 'bert-tiny'));
  const vocabSize = pretrained?.vocabSize ?? tokenizer.vocabSize;
  if (tokenizer.vocabSize !== vocabSize) {
    throw new TokenizerError(options.tokenizerName ?? '<tokenizer>', `has ${tokenizer.vocabSize} ids but the checkpoint's vocabulary has ${vocabSize}; use the tokenizer it was pre-trained with`);
  }
  const special: SpecialTokens = pretrained?.special ?? tokenizer.special;
  const pooling: Pooling = options.pooling ?? (model.architecture === 'encoder' ? 'cls' : 'last');
  const seqLen = positiveInt('seqLen', options.seqLen ?? Math.min(pretrained?.seqLen ?? 128, model.maxPositions));
  if (seqLen > model.maxPositions) throw new ConfigError('seqLen', seqLen, `at most the model's maxPositions=${model.maxPositions}`);
  const backend = await selectBackend(options.backend ? { backend: options.backend } : {});
  const head = classifier({ numLabels: options.numLabels, pooling });
  const session: Session = new internals.Session({
    tf: backend.tf,
    backend: backend.name,
    composition: composeObjectives([head.objective]),
    model,
    vocabSize,
    seqLen,
    seed: seedFromString('finetune-init', options.seed),
  });
  try {
    const loaded = pretrained ? loadWeights(session, pretrained, options.reusePooler ?? true) : [];
    return { session, head, pretrained, model, pooling, seqLen, special, loaded, backend };
  } catch (error) {
    session.dispose();
    throw error;
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** Labelled data by name: `spam-assassin` or a path. */
export async function loadData(source: string): Promise<LabelledDataset> {
  return source === 'spam-assassin' ? spamAssassin() : readLabelled(source);
}

/**
 * Copies the checkpoint's backbone into the session (every `backbone/…` parameter must be there with the same
 * shape) and, with `reusePooler`, the nsp/sop pooler into the classifier's. Returns the names loaded.
 */
function loadWeights(session: Session, pretrained: Pretrained, reusePooler: boolean): string[] {
  const { tf } = session;
  const loaded: string[] = [];
  const poolerSource = ['nsp', 'sop'].find((o) => pretrained.weights.has(`${o}/pooler/kernel`));
  for (const p of session.store.list()) {
    let source: string | null = null;
    if (p.name.startsWith('backbone/')) source = p.name;
    else if (reusePooler && poolerSource && p.name.startsWith('classify/pooler/')) source = p.name.replace('classify/', `${poolerSource}/`);
    if (!source) continue;
    const t = pretrained.weights.get(source);
    if (!t) throw new ConfigError(`${pretrained.checkpointDir}/model.safetensors`, source, 'a tensor for every backbone parameter; the checkpoint does not match its config.json');
    if (t.shape.length !== p.variable.shape.length || t.shape.some((d, i) => d !== p.variable.shape[i])) {
      throw new ConfigError(`${pretrained.checkpointDir}/model.safetensors ${source}`, t.shape, `shape [${p.variable.shape.join(', ')}]`);
    }
    const value = tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
    p.variable.assign(value);
    value.dispose();
    loaded.push(p.name);
  }
  return loaded;
}

/**
 * Token ids per text, `[texts · seqLen]` with padding: `[CLS] text [SEP]` for encoders, `text <eos>` for decoders
 * (the end token gives last-token pooling a fixed place to summarise), truncated to fit.
 */
export function encodeAll(tokenizer: Tokenizer, texts: readonly string[], seqLen: number, architecture: 'encoder' | 'decoder', special: SpecialTokens): Encoded {
  const ids = new Int32Array(texts.length * seqLen).fill(special.pad);
  const mask = new Uint8Array(texts.length * seqLen);
  const cls = special.cls ?? special.bos;
  const sep = special.sep ?? special.eos;
  if (architecture === 'encoder' && (cls === undefined || sep === undefined)) {
    throw new ConfigError('special.cls/sep', special, 'token ids for [CLS] and [SEP] (or bos and eos) to frame rows for an encoder');
  }
  const end = architecture === 'encoder' ? sep : special.eos;
  texts.forEach((text, r) => {
    // Enough characters for seqLen tokens (about 4 characters per token; 16 leaves room for short tokens).
    const body = tokenizer.encode(text.slice(0, seqLen * 16));
    const room = seqLen - (architecture === 'encoder' ? 2 : end === undefined ? 0 : 1);
    const row = ids.subarray(r * seqLen, (r + 1) * seqLen);
    let at = 0;
    if (architecture === 'encoder') row[at++] = cls!;
    const n = Math.min(room, body.length);
    row.set(body.subarray(0, n), at);
    at += n;
    if (end !== undefined) row[at++] = end;
    mask.fill(1, r * seqLen, r * seqLen + at);
  });
  return { ids, mask, seqLen };
}

function architectureOf(model: string | ModelConfig): 'encoder' | 'decoder' {
  if (typeof model !== 'string') return model.architecture;
  const preset = MODEL_PRESETS[model];
  if (!preset) throw new ConfigError('model', model, `a preset (${Object.keys(MODEL_PRESETS).join(', ')}) or explicit dimensions`);
  return preset.architecture;
}

function positiveInt(key: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1)) throw new ConfigError(key, value, 'a positive integer');
  return value;
}

function positive(key: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new ConfigError(key, value, 'a positive number');
  return value;
}

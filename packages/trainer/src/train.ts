import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  NonFiniteLossError,
  Rng,
  composeObjectives,
  seedFromString,
  type Batch,
  type ObjectiveSpec,
  type SpecialTokens,
} from '@pretext/core';
import { selectBackend, type BackendName } from './backend.js';
import { listCheckpoints, loadCheckpoint, readCheckpointState, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { ExampleStream, MainThreadBatches, buildBatch, splitBatch, validationBatches, type BatchSource, type DataPosition, type TrainData } from './data.js';
import { LoaderThread } from './loader.js';
import { generate } from './generate.js';
import { resolveModelConfig, type ModelConfig } from './model.js';
import { AdamW, clipByGlobalNorm, globalNorm, learningRateAt, type Schedule } from './optimizer.js';
import { renderLossPlot, type PlotRow } from './plot.js';
import { ReplicaWorker, addInto, gradsToHost, hostGradientTensors, sumOfSquares } from './parallel.js';
import { Session, type Counts } from './session.js';

export interface SampleOptions {
  readonly prompt: Int32Array;
  readonly maxNewTokens: number;
  /** Default 0.8. */
  readonly temperature?: number;
  /** Default 40. */
  readonly topK?: number;
}

export interface ProgressEvent {
  readonly step: number;
  /** Steps the run now expects to make: `maxSteps`, or fewer when a `maxSeconds` budget allows fewer (a bar's total). */
  readonly maxSteps: number;
  readonly loss: number;
  readonly lr: number;
  readonly tokensPerSecond: number;
  readonly etaSeconds: number;
  /** Present on steps that ran a validation pass. */
  readonly val?: Record<string, number>;
  /** What the trainer is doing when it is not stepping: 'eval', 'sample', 'checkpoint'. */
  readonly phase?: 'train' | 'eval' | 'sample' | 'checkpoint';
}

export interface TrainOptions {
  objectives: ObjectiveSpec[];
  data: TrainData;
  vocabSize: number;
  special: SpecialTokens;
  model: string | ModelConfig;
  /** Run folder: metrics.jsonl, config.json, loss.svg, checkpoints/. */
  outDir: string;
  /** Tokens per example. Default 128 (at most the model's maxPositions). */
  seqLen?: number;
  /** Examples per micro-batch. Default 16. */
  batchSize?: number;
  /** Micro-batches per optimizer step. Default 1. */
  gradAccumulation?: number;
  maxSteps: number;
  /** Peak learning rate. Default 2e-3·min(1, √(128/dModel)) for decoders, 5e-4 for encoders. */
  learningRate?: number;
  /** Default min(200, ceil(5% of maxSteps)). */
  warmupSteps?: number;
  /** Default 'cosine' (to 10% of the peak). */
  schedule?: Schedule;
  /** Decoupled weight decay on matrices and embeddings. Default 0.1 for decoders (GPT), 0.01 for encoders (BERT). */
  weightDecay?: number;
  /** Global-norm clipping threshold. Default 1.0; 0 disables. */
  clipNorm?: number;
  /** Validation every N steps (and at step 0 and at the end). Default max(1, round(maxSteps / 10)). */
  evalEvery?: number;
  /** Fixed validation batches. Default 4. */
  evalBatches?: number;
  /** Metrics row every N steps (mean loss over them). Default max(1, floor(maxSteps / 200)). */
  logEvery?: number;
  /** Checkpoint every N steps and at the end. Default max(1, round(maxSteps / 5)). */
  checkpointEvery?: number;
  /** Checkpoints kept. Default 3. */
  keepCheckpoints?: number;
  /** Continue from the newest checkpoint in outDir/checkpoints. Default false. */
  resume?: boolean;
  backend?: BackendName;
  /** Seeds initialisation, data order, dropout and sampling. Default 0. */
  seed?: number;
  /** Wall-clock budget: the decay is fitted to it and training stops in time for the final eval. */
  maxSeconds?: number;
  /** Examples in the shuffle buffer. Default 1024. */
  shuffleBuffer?: number;
  /**
   * Data-parallel model replicas in worker threads (the wasm backend is single-threaded). Default: one per core, at
   * most 2, on wasm and cpu when every objective has an `origin` to rebuild it from; 1 otherwise.
   */
  workers?: number;
  /**
   * Run the `workers` shares on worker threads (`always`), one after another on the main thread (`never`), or
   * whichever was faster in two probe steps (`auto`, the default). The losses are the same either way.
   */
  replicaThreads?: 'auto' | 'always' | 'never';
  /**
   * Where training batches are built: on a loader thread ahead of the step (`thread`), or on the main thread between
   * steps (`main`). Default `auto`: the thread when every objective and the data have an `origin` to rebuild them
   * from, else the main thread. Both give identical losses. Validation batches are built once, on the main thread.
   */
  loader?: 'auto' | 'thread' | 'main';
  /** Micro-batches the loader thread builds ahead of the step. Default max(4, 2 · gradAccumulation). */
  loaderPrefetch?: number;
  sample?: SampleOptions;
  onProgress?: (e: ProgressEvent) => void;
}

export interface TrainResult {
  runDir: string;
  backend: { name: BackendName; reason: string };
  steps: number;
  train: { first: number; last: number };
  validation?: { first: number; last: number };
  metricsFile: string;
  plotFile: string;
  checkpoint: string | null;
  tokensPerSecond: number;
  seconds: number;
  samples?: { before: Int32Array; after: Int32Array };
  /** Parameters in the model. */
  parameters: number;
  /** Where batches were built, and the time the step waited for them against the time it computed. */
  loader: LoaderReport;
  /** Final validation values per objective (`clm.lm`, `clm.accuracy`, …). */
  validationMetrics?: Record<string, number>;
  /** Data-parallel shares of each micro-batch (the `workers` option as resolved). */
  workers: number;
  /** Threads that computed them: `workers` when replica threads were used, 1 otherwise. */
  threads: number;
}

export interface LoaderReport {
  /** `thread`: a loader thread built batches ahead of the step; `main`: the main thread built them between steps. */
  mode: 'thread' | 'main';
  /** Why this mode (forced, or which origin was missing). */
  reason: string;
  /** Micro-batches built ahead (thread mode), else 0. */
  prefetch: number;
  /** Seconds waiting for the first batch (pipeline fill; the loader thread's start-up). */
  startSeconds: number;
  /** Seconds the step waited for every later batch: time it stood still for data. */
  waitSeconds: number;
  /** Seconds spent building and collating the batches used, on whichever thread built them. */
  buildSeconds: number;
  /** Seconds computing steps (gradients and updates). */
  computeSeconds: number;
  /** computeSeconds / buildSeconds: how many times faster batches are built than the steps use them. */
  headroom: number;
}

interface Resolved {
  seqLen: number;
  batchSize: number;
  gradAccumulation: number;
  maxSteps: number;
  learningRate: number;
  warmupSteps: number;
  schedule: Schedule;
  weightDecay: number;
  clipNorm: number;
  evalEvery: number;
  evalBatches: number;
  logEvery: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  seed: number;
  shuffleBuffer: number;
  maxSeconds: number | null;
}

function positiveInt(key: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1)) throw new ConfigError(key, value, 'a positive integer');
  return value;
}

function nonNegative(key: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new ConfigError(key, value, 'a non-negative number');
  return value;
}

/**
 * Fills in defaults. Intervals that scale with the run's length (warmup, eval, log, checkpoint) use `planSteps`: the
 * steps the run expects to make, `maxSteps` unless a `maxSeconds` budget allows fewer.
 */
function resolveOptions(o: TrainOptions, architecture: 'encoder' | 'decoder', planSteps = o.maxSteps, evalCount = 10, dModel = 128): Resolved {
  const maxSteps = positiveInt('maxSteps', o.maxSteps);
  const plan = Math.max(1, Math.min(maxSteps, planSteps));
  // Decoders: 2e-3 at d 128 (best of 1e-3/2e-3/4e-3 for gpt-demo over 40 steps on the demo corpus), scaled by
  // √(128/d) for wider models (8e-4 at GPT-2 small's 768). Encoders: 5e-4.
  const learningRate = o.learningRate ?? (architecture === 'decoder' ? 2e-3 * Math.min(1, Math.sqrt(128 / dModel)) : 5e-4);
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new ConfigError('learningRate', learningRate, 'a positive number');
  const schedule = o.schedule ?? 'cosine';
  if (!['cosine', 'linear', 'constant'].includes(schedule)) throw new ConfigError('schedule', schedule, 'cosine, linear or constant');
  const evalEvery = positiveInt('evalEvery', o.evalEvery ?? Math.max(1, Math.round(plan / Math.max(1, evalCount))));
  return {
    seqLen: positiveInt('seqLen', o.seqLen ?? 128),
    batchSize: positiveInt('batchSize', o.batchSize ?? 16),
    gradAccumulation: positiveInt('gradAccumulation', o.gradAccumulation ?? 1),
    maxSteps,
    learningRate,
    warmupSteps: nonNegative('warmupSteps', o.warmupSteps ?? Math.min(200, Math.ceil(plan * 0.05))),
    schedule,
    weightDecay: nonNegative('weightDecay', o.weightDecay ?? (architecture === 'decoder' ? 0.1 : 0.01)),
    clipNorm: nonNegative('clipNorm', o.clipNorm ?? 1),
    evalEvery,
    evalBatches: positiveInt('evalBatches', o.evalBatches ?? 4),
    logEvery: positiveInt('logEvery', o.logEvery ?? Math.max(1, Math.floor(plan / 200))),
    checkpointEvery: positiveInt('checkpointEvery', o.checkpointEvery ?? Math.max(1, Math.round(plan / 5))),
    keepCheckpoints: positiveInt('keepCheckpoints', o.keepCheckpoints ?? 3),
    seed: o.seed ?? 0,
    shuffleBuffer: positiveInt('shuffleBuffer', o.shuffleBuffer ?? 1024),
    maxSeconds: o.maxSeconds === undefined ? null : nonNegative('maxSeconds', o.maxSeconds),
  };
}

function checkSpecial(special: SpecialTokens, vocabSize: number): void {
  for (const [name, id] of Object.entries(special)) {
    if (id === undefined) continue;
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new ConfigError(`special.${name}`, id, `a token id below vocabSize=${vocabSize}; the tokenizer does not match the model's vocabulary`);
    }
  }
}

/**
 * Pre-trains a transformer with the given objectives. Builds the model the composition asks for (decoder or
 * encoder), streams examples, steps AdamW with exact gradient accumulation, evaluates on fixed batches, writes
 * metrics, a plot and checkpoints into `outDir`, and returns a summary.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const startedAt = performance.now();
  const composition = composeObjectives(options.objectives);
  const vocabSize = positiveInt('vocabSize', options.vocabSize);
  checkSpecial(options.special, vocabSize);
  const model = resolveModelConfig(options.model, composition.architecture);
  let r = resolveOptions(options, composition.architecture, options.maxSteps, 10, model.dModel);
  if (r.seqLen > model.maxPositions) throw new ConfigError('seqLen', r.seqLen, `at most the model's maxPositions=${model.maxPositions}`);
  if (options.sample && composition.architecture !== 'decoder') throw new ConfigError('sample', 'sample', 'a decoder objective (clm): encoders do not generate text');

  const backend = await selectBackend(options.backend ? { backend: options.backend } : {});
  const { tf } = backend;
  const runDir = path.resolve(options.outDir);
  const checkpointRoot = path.join(runDir, 'checkpoints');
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  const plotFile = path.join(runDir, 'loss.svg');
  await mkdir(runDir, { recursive: true });

  const origins = composition.objectives.map(({ objective, weight }) => ({ origin: objective.origin, weight }));
  const parallelOk = origins.every((o) => o.origin !== undefined) && (backend.name === 'wasm' || backend.name === 'cpu');
  if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 1)) throw new ConfigError('workers', options.workers, 'a positive integer');
  if (options.workers !== undefined && options.workers > 1 && !parallelOk) {
    throw new ConfigError('workers', options.workers, `1: replicas need the wasm or cpu backend and objectives with an origin (backend ${backend.name}; ${origins.filter((o) => !o.origin).length} objective(s) without origin)`);
  }
  // `workers` shares of every micro-batch: the arithmetic (and so the losses) depends on this number only; whether the
  // shares run on worker threads or one after another on the main thread is decided by timing (see the probe).
  const workers = Math.max(1, Math.min(r.batchSize, options.workers ?? (parallelOk ? Math.min(2, os.availableParallelism()) : 1)));
  const threadsMode = options.replicaThreads ?? 'auto';
  if (!['auto', 'always', 'never'].includes(threadsMode)) throw new ConfigError('replicaThreads', threadsMode, 'auto, always or never');
  const loader = chooseLoader(options, composition.objectives.filter(({ objective }) => !objective.origin).map(({ objective }) => objective.name), r.gradAccumulation);
  const fingerprint = {
    vocabSize,
    special: options.special,
    model,
    objectives: composition.objectives.map(({ objective, weight }) => ({ name: objective.name, weight, options: objective.options })),
    seqLen: r.seqLen,
    batchSize: r.batchSize,
    gradAccumulation: r.gradAccumulation,
    seed: r.seed,
    shuffleBuffer: r.shuffleBuffer,
    workers,
  };
  const configOf = (planSteps: number) => ({
    ...fingerprint,
    planSteps,
    architecture: composition.architecture,
    modelName: typeof options.model === 'string' ? options.model : null,
    maxSteps: r.maxSteps,
    learningRate: r.learningRate,
    warmupSteps: r.warmupSteps,
    schedule: r.schedule,
    minLearningRateRatio: 0.1,
    weightDecay: r.weightDecay,
    adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    clipNorm: r.clipNorm,
    evalEvery: r.evalEvery,
    evalBatches: r.evalBatches,
    logEvery: r.logEvery,
    checkpointEvery: r.checkpointEvery,
    keepCheckpoints: r.keepCheckpoints,
    maxSeconds: r.maxSeconds,
    backend: { name: backend.name, reason: backend.reason, tfjs: tf.version_core },
    loader,
    objectives: composition.objectives.map(({ objective, weight }) => ({
      name: objective.name,
      weight,
      options: objective.options,
      origin: objective.origin ?? null,
    })),
  });

  const session = new Session({ tf, backend: backend.name, composition, model, vocabSize, seqLen: r.seqLen, seed: r.seed });
  const optimizer = new AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: r.weightDecay });
  const replicas: ReplicaWorker[] = [];
  // Started only when the run is long enough to pay for it (a replica takes seconds to load tfjs).
  const startReplicas = () =>
    Promise.all(
          Array.from({ length: workers - 1 }, () =>
            ReplicaWorker.start({
              backend: backend.name,
              model,
              vocabSize,
              seqLen: r.seqLen,
              seed: r.seed,
              objectives: origins.map((o) => ({ origin: o.origin!, weight: o.weight })),
              adam: optimizer.options,
            }),
          ),
    );
  // Main-thread batches come from this stream; in thread mode the loader thread runs its own copy of it.
  const stream = new ExampleStream({
    composition,
    data: options.data,
    seqLen: r.seqLen,
    vocabSize,
    special: options.special,
    seed: r.seed,
    shuffleBuffer: r.shuffleBuffer,
  });
  let source: BatchSource | null = null;
  try {
    const valBatches = await validationBatches(
      { composition, data: options.data, seqLen: r.seqLen, vocabSize, special: options.special, seed: r.seed },
      r.batchSize,
      r.evalBatches,
    );

    let step = 0;
    let scheduleSteps = r.maxSteps;
    let planSteps = r.maxSteps;
    let evalCount = 10;
    let trainFirst: number | null = null;
    let valFirst: number | null = null;
    let tokens = 0;
    let priorElapsed = 0;
    let lastCheckpoint: string | null = null;
    const lossRows: PlotRow[] = [];
    const lrRows: PlotRow[] = [];

    let resumeAt: DataPosition = { epoch: 0, consumed: 0 };
    if (options.resume) {
      const latest = (await listCheckpoints(checkpointRoot)).at(-1);
      if (latest) {
        const state = await readCheckpointState(latest.dir);
        const mismatch = Object.keys(fingerprint).find(
          (k) => JSON.stringify((fingerprint as Record<string, unknown>)[k]) !== JSON.stringify(state.fingerprint[k]),
        );
        if (mismatch) {
          throw new ConfigError(mismatch, (fingerprint as Record<string, unknown>)[mismatch], `${JSON.stringify(state.fingerprint[mismatch])} as in the checkpoint ${latest.dir}; resume with the same settings or start a new run folder`);
        }
        await loadCheckpoint(latest.dir, session, optimizer);
        step = state.step;
        planSteps = state.planSteps;
        evalCount = state.evalCount;
        r = resolveOptions(options, composition.architecture, planSteps, evalCount, model.dModel);
        // The decay horizon continues as saved unless the run was extended with a new maxSteps.
        scheduleSteps = state.fingerprint['maxSteps'] === r.maxSteps ? state.scheduleSteps : r.maxSteps;
        trainFirst = state.train.first;
        valFirst = state.validation.first;
        tokens = state.tokens;
        priorElapsed = state.elapsedSeconds;
        lastCheckpoint = latest.dir;
        resumeAt = state.data;
        // Keep the metrics written up to the checkpoint; rows after it are produced again.
        const kept = await truncateMetrics(metricsFile, step);
        for (const row of kept) addPlotRows(row, lossRows, lrRows);
      }
    }
    if (step === 0) {
      await writeFile(metricsFile, '');
    }
    // Started before the step-0 evaluation and the probes, so the loader thread's start-up and first batches
    // overlap them.
    if (loader.mode === 'thread') {
      source = LoaderThread.start({
        objectives: origins.map((o) => ({ origin: o.origin!, weight: o.weight })),
        data: options.data.origin!,
        seqLen: r.seqLen,
        vocabSize,
        special: options.special,
        seed: r.seed,
        shuffleBuffer: r.shuffleBuffer,
        batchSize: r.batchSize,
        position: resumeAt,
        prefetch: loader.prefetch,
      });
    } else {
      if (resumeAt.epoch !== 0 || resumeAt.consumed !== 0) await stream.seek(resumeAt);
      source = new MainThreadBatches(stream, r.batchSize, vocabSize);
    }
    const batches = source;

    const writeRow = async (row: Record<string, unknown>) => {
      await appendFile(metricsFile, `${JSON.stringify(row)}\n`);
      addPlotRows(row, lossRows, lrRows);
    };
    const refreshPlot = async () => {
      const svg = await renderLossPlot(lossRows, lrRows, `${composition.names.join(' + ')} · ${typeof options.model === 'string' ? options.model : 'custom model'}`);
      await writeFile(plotFile, svg);
    };

    let lastVal: { loss: number; values: Record<string, number> } | null = null;
    let evalSeconds = 0;
    const runEval = async (atStep: number) => {
      if (valBatches.length === 0) return undefined;
      const t0 = performance.now();
      const result = session.evaluate(valBatches);
      evalSeconds = (performance.now() - t0) / 1000;
      lastVal = result;
      valFirst ??= result.loss;
      const row = { step: atStep, split: 'val', loss: result.loss, perplexity: Math.exp(result.loss), ...result.values };
      await writeRow(row);
      return { loss: result.loss, perplexity: Math.exp(result.loss), ...result.values };
    };

    const rng = () => new Rng(seedFromString('sample', r.seed));
    const languageModel = { contextLength: r.seqLen, nextTokenLogits: (ids: Int32Array) => session.nextTokenLogits(ids) };
    const sampleNow = () =>
      options.sample
        ? generate(languageModel, {
            prompt: options.sample.prompt,
            maxNewTokens: options.sample.maxNewTokens,
            temperature: options.sample.temperature ?? 0.8,
            topK: options.sample.topK ?? 40,
            rng: rng(),
            ...(options.special.eos !== undefined ? { stopToken: options.special.eos } : {}),
          })
        : undefined;
    let sampleSeconds = 0;
    const sampleStart = performance.now();
    const before = sampleNow();
    sampleSeconds = (performance.now() - sampleStart) / 1000;

    if (step === 0) {
      options.onProgress?.({ step: 0, maxSteps: r.maxSteps, loss: NaN, lr: 0, tokensPerSecond: 0, etaSeconds: NaN, phase: 'eval' });
      const val = await runEval(0);
      if (val) {
        options.onProgress?.({ step: 0, maxSteps: r.maxSteps, loss: NaN, lr: 0, tokensPerSecond: 0, etaSeconds: NaN, val, phase: 'eval' });
        await refreshPlot();
      }
    }


    /** Splits each micro-batch into `workers` shares (rows in order); counts are over the whole step. */
    const split = (micro: Batch[]) => {
      const parts: Batch[][] = Array.from({ length: workers }, () => []);
      const totals: Counts = {};
      for (const whole of micro) {
        splitBatch(whole, workers).forEach((batch, w) => {
          if (batch.size === 0) return;
          parts[w]!.push(batch);
          for (const [k, c] of Object.entries(session.counts(batch))) totals[k] = (totals[k] ?? 0) + c;
        });
      }
      return { parts, totals };
    };

    /**
     * Gradients of all shares, summed on the host in share order: on the replicas' threads, or one share after
     * another on the main thread. Both give the same numbers (same shares, same order of summation).
     */
    const shareGradients = async (parts: Batch[][], totals: Counts, n: number, viaThreads: boolean) => {
      const remote = viaThreads ? replicas.map((replica, w) => (parts[w + 1]!.length > 0 ? replica.gradients(parts[w + 1]!, totals, n, w + 1) : null)) : [];
      const local = session.gradients(parts[0]!, n, { totals, rank: 0 });
      const summed = gradsToHost(local.grads, tf);
      let loss = local.loss;
      const metrics = local.metrics;
      for (let w = 1; w < workers; w++) {
        if (parts[w]!.length === 0) continue;
        let other: { loss: number; metrics: Record<string, { sum: number; count: number }>; grads: Record<string, Float32Array> };
        if (viaThreads) other = (await remote[w - 1])!;
        else {
          const g = session.gradients(parts[w]!, n, { totals, rank: w });
          other = { loss: g.loss, metrics: g.metrics, grads: gradsToHost(g.grads, tf) };
        }
        loss += other.loss;
        for (const [name, g] of Object.entries(other.grads)) {
          const mine = summed[name];
          if (!mine) summed[name] = g;
          else addInto(mine, g);
        }
        for (const [k, m] of Object.entries(other.metrics)) {
          const into = (metrics[k] ??= { sum: 0, count: 0 });
          into.sum += m.sum;
          into.count += m.count;
        }
      }
      return { loss, metrics, summed };
    };

    // Probe steps on the first examples (from a separate stream: the real one is not advanced; no update is
    // applied): they time a step to fit a time budget, and decide whether replica threads pay off here (a second
    // core that is busy with other work makes them slower than running the shares one after another).
    let probeParts: { parts: Batch[][]; totals: Counts } | null = null;
    if ((r.maxSeconds !== null && step === 0) || workers > 1) {
      const probeStream = new ExampleStream({ composition, data: options.data, seqLen: r.seqLen, vocabSize, special: options.special, seed: r.seed, shuffleBuffer: r.shuffleBuffer });
      const micro: Batch[] = [];
      for (let i = 0; i < r.gradAccumulation; i++) micro.push(buildBatch(await probeStream.take(r.batchSize), vocabSize));
      await probeStream.close();
      probeParts = split(micro);
    }
    const timeShares = async (viaThreads: boolean, times: number) => {
      let best = Infinity;
      for (let i = 0; i < times; i++) {
        const t0 = performance.now();
        await shareGradients(probeParts!.parts, probeParts!.totals, 0, viaThreads);
        best = Math.min(best, (performance.now() - t0) / 1000);
      }
      return best;
    };
    let stepSeconds = NaN;
    if (workers > 1) {
      const sequential = threadsMode === 'always' ? Infinity : await timeShares(false, 2);
      const expected = (r.maxSteps - step) * sequential;
      if (threadsMode === 'always' || (threadsMode === 'auto' && Math.min(expected, r.maxSeconds ?? Infinity) > 20)) {
        try {
          replicas.push(...(await startReplicas()));
          for (const replica of replicas) await replica.setState(session.store.list(), optimizer);
        } catch (error) {
          // Forced: fail. Automatic: run the shares on the main thread.
          if (threadsMode === 'always') throw error;
          await Promise.all(replicas.map((w) => w.close()));
          replicas.length = 0;
        }
        if (replicas.length > 0) {
          const threaded = await timeShares(true, 2);
          if (sequential < threaded) {
            await Promise.all(replicas.map((w) => w.close()));
            replicas.length = 0;
          }
          stepSeconds = Math.min(threaded, sequential);
        }
      }
      if (Number.isNaN(stepSeconds)) stepSeconds = sequential;
    }
    if (r.maxSeconds !== null && step === 0) {
      // Fit the run to the time budget before it starts, so warmup, decay and the eval/log/checkpoint intervals
      // match the steps it will make.
      if (Number.isNaN(stepSeconds)) {
        stepSeconds = Infinity;
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          if (workers > 1) await shareGradients(probeParts!.parts, probeParts!.totals, 0, false);
          else {
            const g = session.gradients(probeParts!.parts[0]!, 0);
            for (const t of g.grads.values()) t.dispose();
          }
          stepSeconds = Math.min(stepSeconds, (performance.now() - t0) / 1000);
        }
      }
      const left = r.maxSeconds - (performance.now() - startedAt) / 1000 - sampleSeconds - evalSeconds - 2;
      // Ten evaluations along the way, fewer when they would take more than 15% of the budget.
      const evals = options.evalEvery !== undefined ? 0 : Math.max(1, Math.min(10, Math.floor((0.15 * left) / Math.max(evalSeconds, 1e-3))));
      planSteps = Math.max(1, Math.min(r.maxSteps, Math.floor((left - evals * evalSeconds) / (stepSeconds * 1.02))));
      r = resolveOptions(options, composition.architecture, planSteps, evals, model.dModel);
      evalCount = evals;
      scheduleSteps = planSteps;
    }
    await writeFile(path.join(runDir, 'config.json'), `${JSON.stringify({ ...configOf(planSteps), threads: replicas.length + 1 }, null, 2)}\n`);

    const runStart = performance.now() / 1000 - priorElapsed;
    const stepStart = performance.now() / 1000;
    const startStep = step;
    let computeSeconds = 0;
    let window = { loss: 0, steps: 0, tokens: 0, seconds: 0 };
    let lastLoss = NaN;
    let lastLr = 0;
    let rate = 0;
    const tokensPerStep = r.batchSize * r.gradAccumulation * r.seqLen;

    const fitScheduleToBudget = () => {
      if (r.maxSeconds === null) return;
      const done = step - startStep;
      if (done < 3) return;
      const elapsed = performance.now() / 1000 - stepStart;
      const perStep = elapsed / done;
      // Leave time for the final evaluation, the sample and a checkpoint.
      const reserve = evalSeconds + sampleSeconds + 1;
      const left = r.maxSeconds - (performance.now() / 1000 - startedAt / 1000) - reserve;
      // Never below the current step: when the budget is spent this step becomes the last one.
      scheduleSteps = Math.max(step, Math.min(r.maxSteps, step + Math.floor(left / perStep)));
    };

    const lrAt = (n: number) =>
      learningRateAt(n, { learningRate: r.learningRate, warmupSteps: r.warmupSteps, totalSteps: scheduleSteps, schedule: r.schedule, minRatio: 0.1 });

    /** One optimizer step on the main thread alone. */
    const localStep = (micro: Batch[], n: number) => {
      const result = session.gradients(micro, n);
      const norm = globalNorm(tf, result.grads);
      if (!Number.isFinite(result.loss) || !Number.isFinite(norm)) {
        for (const g of result.grads.values()) g.dispose();
        throw new NonFiniteLossError(n, Number.isFinite(result.loss) ? norm : result.loss, lastCheckpoint);
      }
      clipByGlobalNorm(tf, result.grads, norm, r.clipNorm);
      const lr = lrAt(n);
      optimizer.apply(result.grads, lr);
      for (const g of result.grads.values()) g.dispose();
      return { loss: result.loss, norm, lr, metrics: result.metrics };
    };

    /** One optimizer step over `workers` shares (replica threads or one after another), summed gradients. */
    const sharedStep = async (micro: Batch[], n: number) => {
      const { parts, totals } = split(micro);
      const viaThreads = replicas.length > 0;
      const { loss, metrics, summed } = await shareGradients(parts, totals, n, viaThreads);
      let sq = 0;
      for (const g of Object.values(summed)) sq += sumOfSquares(g);
      const norm = Math.sqrt(sq);
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) throw new NonFiniteLossError(n, Number.isFinite(loss) ? norm : loss, lastCheckpoint);
      const scale = r.clipNorm > 0 && norm > r.clipNorm ? r.clipNorm / (norm + 1e-6) : 1;
      const lr = lrAt(n);
      // This thread's copy first, then the arrays move to the last replica (the others get copies), so no thread
      // waits for a clone of every gradient; each replica then runs the same update.
      const tensors = hostGradientTensors(tf, session.store.list(), summed);
      try {
        replicas.forEach((replica, i) => replica.apply(summed, scale, lr, i === replicas.length - 1));
        optimizer.apply(tensors, lr, scale);
      } finally {
        for (const t of tensors.values()) t.dispose();
      }
      return { loss, norm, lr, metrics };
    };

    while (step < r.maxSteps && step < scheduleSteps) {
      const micro: Batch[] = [];
      for (let i = 0; i < r.gradAccumulation; i++) micro.push(await batches.next());
      const t0 = performance.now();
      const result = workers > 1 ? await sharedStep(micro, step + 1) : localStep(micro, step + 1);
      const { norm, lr } = result;
      step++;
      const seconds = (performance.now() - t0) / 1000;
      computeSeconds += seconds;
      tokens += tokensPerStep;
      trainFirst ??= result.loss;
      lastLoss = result.loss;
      lastLr = lr;
      window.loss += result.loss;
      window.steps++;
      window.tokens += tokensPerStep;
      window.seconds += seconds;
      rate = tokensPerStep / seconds;
      fitScheduleToBudget();
      const last = step >= r.maxSteps || step >= scheduleSteps;
      const remaining = Math.min(r.maxSteps, scheduleSteps) - step;
      const eta = remaining * (computeSeconds / Math.max(1, step - startStep));

      if (step % r.logEvery === 0 || last) {
        const row: Record<string, unknown> = {
          step,
          loss: window.loss / window.steps,
          lr,
          tokens_per_second: window.tokens / window.seconds,
          grad_norm: norm,
          elapsed_s: performance.now() / 1000 - runStart,
        };
        for (const [k, v] of Object.entries(result.metrics)) if (v.count > 0) row[k] = v.sum / v.count;
        await writeRow(row);
        window = { loss: 0, steps: 0, tokens: 0, seconds: 0 };
      }
      let val: Record<string, number> | undefined;
      if (step % r.evalEvery === 0 || last) {
        options.onProgress?.({ step, maxSteps: Math.min(r.maxSteps, scheduleSteps), loss: result.loss, lr, tokensPerSecond: rate, etaSeconds: eta, phase: 'eval' });
        val = await runEval(step);
        await refreshPlot();
      }
      options.onProgress?.({ step, maxSteps: Math.min(r.maxSteps, scheduleSteps), loss: result.loss, lr, tokensPerSecond: rate, etaSeconds: eta, ...(val ? { val } : {}), phase: 'train' });
      if (step % r.checkpointEvery === 0 || last) {
        lastCheckpoint = await saveCheckpoint(
          checkpointRoot,
          session,
          optimizer,
          {
            format: 'pretext-checkpoint',
            version: 1,
            step,
            optimizerStep: optimizer.step,
            data: batches.position(),
            seed: r.seed,
            scheduleSteps,
            planSteps,
            evalCount,
            fingerprint: { ...fingerprint, maxSteps: r.maxSteps },
            train: { first: trainFirst },
            validation: { first: valFirst },
            tokens,
            elapsedSeconds: performance.now() / 1000 - runStart,
          } satisfies CheckpointState,
          r.keepCheckpoints,
        );
      }
    }
    if (lossRows.length > 0) await refreshPlot();

    options.onProgress?.({ step, maxSteps: Math.min(r.maxSteps, scheduleSteps), loss: lastLoss, lr: lastLr, tokensPerSecond: rate, etaSeconds: 0, phase: 'sample' });
    const after = sampleNow();
    const trainRows = lossRows.filter((row) => row.series === 'train');
    const finalVal = lastVal as { loss: number; values: Record<string, number> } | null;
    const result: TrainResult = {
      runDir,
      backend: { name: backend.name, reason: backend.reason },
      steps: step,
      train: { first: trainFirst ?? NaN, last: trainRows.at(-1)?.value ?? NaN },
      metricsFile,
      plotFile,
      checkpoint: lastCheckpoint,
      tokensPerSecond: computeSeconds > 0 ? ((step - startStep) * tokensPerStep) / computeSeconds : 0,
      seconds: (performance.now() - startedAt) / 1000,
      parameters: session.store.count(),
      workers,
      threads: replicas.length + 1,
      loader: {
        ...loader,
        startSeconds: batches.times.startSeconds,
        waitSeconds: batches.times.waitSeconds,
        buildSeconds: batches.times.buildSeconds,
        computeSeconds,
        headroom: batches.times.buildSeconds > 0 ? computeSeconds / batches.times.buildSeconds : Infinity,
      },
    };
    if (valFirst !== null && finalVal) {
      result.validation = { first: valFirst, last: finalVal.loss };
      result.validationMetrics = finalVal.values;
    }
    if (before && after) result.samples = { before, after };
    return result;
  } finally {
    await source?.close();
    await stream.close();
    await Promise.all(replicas.map((w) => w.close()));
    optimizer.dispose();
    session.dispose();
  }
}

function addPlotRows(row: Record<string, unknown>, lossRows: PlotRow[], lrRows: PlotRow[]): void {
  const step = row['step'] as number;
  const loss = row['loss'] as number;
  if (row['split'] === 'val') {
    lossRows.push({ step, series: 'validation', value: loss });
  } else {
    lossRows.push({ step, series: 'train', value: loss });
    if (typeof row['lr'] === 'number') lrRows.push({ step, series: 'lr', value: row['lr'] });
  }
}

async function truncateMetrics(file: string, step: number): Promise<Record<string, unknown>[]> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const rows = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((row) => (row['step'] as number) <= step);
  await writeFile(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  return rows;
}

/** Loader thread or main thread, and why (reported like the backend choice). */
function chooseLoader(options: TrainOptions, withoutOrigin: readonly string[], gradAccumulation: number): { mode: 'thread' | 'main'; reason: string; prefetch: number } {
  const mode = options.loader ?? 'auto';
  if (!['auto', 'thread', 'main'].includes(mode)) throw new ConfigError('loader', mode, 'auto, thread or main');
  const prefetch = positiveInt('loaderPrefetch', options.loaderPrefetch ?? Math.max(4, 2 * gradAccumulation));
  const missing = [
    ...(withoutOrigin.length > 0 ? [`objective(s) ${withoutOrigin.join(', ')} have no origin`] : []),
    ...(options.data.origin ? [] : ['the data has no origin']),
  ];
  if (mode === 'main') return { mode: 'main', reason: 'chosen with loader: main', prefetch: 0 };
  if (missing.length > 0) {
    if (mode === 'thread') throw new ConfigError('loader', 'thread', `objectives and data that a thread can rebuild, but ${missing.join(' and ')}; give them an origin or use loader: 'main'`);
    return { mode: 'main', reason: `${missing.join(' and ')} to rebuild in a thread`, prefetch: 0 };
  }
  return { mode: 'thread', reason: `${mode === 'thread' ? 'chosen with loader: thread' : 'objectives and data have origins'}: ${prefetch} batches built ahead`, prefetch };
}

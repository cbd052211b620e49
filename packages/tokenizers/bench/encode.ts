/**
 * Encoding and training benchmark: ours against gpt-tokenizer (pure JS), tiktoken (WASM) and Hugging Face
 * `tokenizers` (Rust binding), in one run on the same English text (stdlib Moby-Dick + State of the Union),
 * one thread. Prints MB/s (median of repeats) and ratios to gpt-tokenizer's warm speed, and checks that all
 * libraries give identical ids.
 *
 *   npx tsx --conditions=@pretext/source bench/encode.ts [--repeats 5] [--mb 13] [--skip-train]
 */
process.env.RAYON_NUM_THREADS ??= '1'; // one thread for the Rust library too (read when its pool starts)
process.env.TOKENIZERS_PARALLELISM ??= 'false';

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { englishTexts, GPT2_JSON, BERT_JSON } from '../test/corpora.js';
import { loadTokenizer, trainBpe, type BpeTokenizer, type Tokenizer } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const repeats = arg('repeats', 5);
const limitMB = arg('mb', 100);
const skipTrain = args.includes('--skip-train');

const { Tokenizer: Hf, BPE, byteLevelPreTokenizer, byteLevelDecoder } = (await import('tokenizers')) as typeof import('tokenizers') & {
  byteLevelDecoder?: () => unknown;
};
const gptTok = await import('gpt-tokenizer/encoding/r50k_base');
const { get_encoding } = await import('tiktoken');

const docs: string[] = [];
let bytes = 0;
for (const t of englishTexts()) {
  if (bytes >= limitMB * 1e6) break;
  docs.push(t);
  bytes += Buffer.byteLength(t);
}
const MB = bytes / 1e6;
console.log(`text: ${docs.length} documents, ${MB.toFixed(2)} MB (Moby-Dick + State of the Union), ${repeats} repeats, median`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Runner {
  name: string;
  run: () => unknown | Promise<unknown>;
  setup?: () => void;
}

/**
 * Times runners interleaved (each repeat runs every runner once, in turn) after one warm-up round, so a change in
 * machine load during the run hits all libraries alike; reports the median MB/s of each.
 */
async function measureAll(runners: Runner[]): Promise<number[]> {
  const times = runners.map(() => [] as number[]);
  for (let r = -1; r < repeats; r++) {
    for (const [i, runner] of runners.entries()) {
      runner.setup?.();
      const t0 = performance.now();
      await runner.run();
      if (r >= 0) times[i]!.push((performance.now() - t0) / 1000);
    }
  }
  return runners.map((runner, i) => {
    const speed = MB / median(times[i]!);
    console.log(`${runner.name.padEnd(44)} ${speed.toFixed(2).padStart(7)} MB/s`);
    return speed;
  });
}

// --- identical ids -----------------------------------------------------------------------------------------
const ours = (await loadTokenizer(GPT2_JSON())) as BpeTokenizer;
const hf = Hf.fromFile(GPT2_JSON());
const tik = get_encoding('gpt2');
let checked = 0;
for (const d of docs) {
  const a = Array.from(ours.encode(d)).join();
  const b = gptTok.encode(d, { disallowedSpecial: new Set() }).join();
  const c = Array.from(tik.encode_ordinary(d)).join();
  const e = (await hf.encode(d, null, { addSpecialTokens: false })).getIds().join();
  if (a !== b || a !== c || a !== e) throw new Error(`ids differ on document ${checked}`);
  checked++;
}
console.log(`ids identical across the four libraries on all ${checked} documents\n`);

// --- GPT-2 byte-level BPE encoding -------------------------------------------------------------------------
console.log('GPT-2 encoding (one thread):');
let fresh: Tokenizer = ours;
const noSpecial = { disallowedSpecial: new Set<string>() };
const [gptWarm, tikSpeed, hfSpeed, oursWarm, oursCold, oursOffsets] = await measureAll([
  { name: 'gpt-tokenizer 4 (warm cache)', run: () => docs.forEach((d) => gptTok.encode(d, noSpecial)) },
  { name: 'tiktoken 1.0.22 (WASM)', run: () => docs.forEach((d) => tik.encode_ordinary(d)) },
  {
    name: 'HF tokenizers 0.23 (Rust binding)',
    run: async () => {
      for (const d of docs) await hf.encode(d, null, { addSpecialTokens: false });
    },
  },
  { name: 'pretext (warm cache)', run: () => docs.forEach((d) => ours.encode(d)) },
  {
    name: 'pretext (cold: new tokenizer each repeat)',
    setup: () => {
      fresh = new (ours.constructor as new (spec: unknown) => Tokenizer)((ours as unknown as { spec: unknown }).spec);
    },
    run: () => docs.forEach((d) => fresh.encode(d)),
  },
  { name: 'pretext encodeWithOffsets (warm)', run: () => docs.forEach((d) => ours.encodeWithOffsets(d)) },
]);
// resizing empties gpt-tokenizer's cache, so its cache-off mode is timed after the others
gptTok.setMergeCacheSize(0);
const [gptCold] = await measureAll([{ name: 'gpt-tokenizer 4 (cache off)', run: () => docs.forEach((d) => gptTok.encode(d, noSpecial)) }]);
gptTok.setMergeCacheSize(gptTok.DEFAULT_MERGE_CACHE_SIZE);
console.log('\nratios to gpt-tokenizer warm:');
for (const [n, v] of [
  ['pretext warm', oursWarm],
  ['pretext cold', oursCold],
  ['pretext with offsets', oursOffsets],
  ['gpt-tokenizer cache off', gptCold],
  ['tiktoken', tikSpeed],
  ['HF tokenizers', hfSpeed],
] as const) {
  console.log(`  ${n.padEnd(26)} ${(v / gptWarm).toFixed(2)}×`);
}

// --- WordPiece (bert-base-uncased) -----------------------------------------------------------------------
console.log('\nWordPiece encoding, bert-base-uncased (one thread):');
const bert = await loadTokenizer(BERT_JSON());
const hfBert = Hf.fromFile(BERT_JSON());
for (const d of docs.slice(0, 50)) {
  if (Array.from(bert.encode(d)).join() !== (await hfBert.encode(d, null, { addSpecialTokens: false })).getIds().join()) throw new Error('WordPiece ids differ');
}
const [hfWp, oursWp] = await measureAll([
  {
    name: 'HF tokenizers 0.23 (Rust binding)',
    run: async () => {
      for (const d of docs) await hfBert.encode(d, null, { addSpecialTokens: false });
    },
  },
  { name: 'pretext (warm cache)', run: () => docs.forEach((d) => bert.encode(d)) },
]);
console.log(`  pretext / HF: ${(oursWp / hfWp).toFixed(2)}×`);

// --- BPE training ----------------------------------------------------------------------------------------
if (!skipTrain) {
  console.log('\nByte-level BPE training to 30,000 ids on the same text (one run each):');
  const dir = mkdtempSync(path.join(tmpdir(), 'pretext-bench-'));
  const file = path.join(dir, 'corpus.txt');
  writeFileSync(file, docs.join('\n'));
  const hfTrain = new Hf(BPE.empty());
  hfTrain.setPreTokenizer(byteLevelPreTokenizer(false, true));
  let t0 = performance.now();
  hfTrain.train([file]); // the binding's default BpeTrainer: 30,000 ids, min frequency 0
  const hfSec = (performance.now() - t0) / 1000;
  console.log(`${'HF tokenizers 0.23 BpeTrainer'.padEnd(44)} ${hfSec.toFixed(2).padStart(7)} s (vocab ${hfTrain.getVocabSize(true)})`);
  t0 = performance.now();
  const trained = await trainBpe(docs, { vocabSize: 30_000, minFrequency: 1, specialTokens: [] });
  const ourSec = (performance.now() - t0) / 1000;
  console.log(`${'pretext trainBpe'.padEnd(44)} ${ourSec.toFixed(2).padStart(7)} s (vocab ${trained.vocabSize})`);
  console.log(`  pretext / HF time: ${(ourSec / hfSec).toFixed(2)}×`);
  void byteLevelDecoder;
}
tik.free();

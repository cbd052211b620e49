/**
 * tokenizeShards throughput by worker count on the same document shards (stdlib Moby-Dick + State of the Union,
 * repeated to `--mb`), GPT-2 tokenizer. Prints MB/s (median of repeats) and the speed-up over in-thread.
 * Worker start-up (loading the tokenizer in each thread) is included, as a user sees it.
 *
 *   npx tsc -b && npx tsx bench/tokenize-shards.ts [--mb 26] [--repeats 3] [--workers 0,1,2,4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { writeDocuments } from '@pretext/shards';
import { englishTexts, GPT2_JSON } from '../test/corpora.js';
// the built package, so workers run plain JavaScript as they do for users (run `npx tsc -b` first)
import { tokenizeShards } from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const targetMB = Number(arg('mb', '26'));
const repeats = Number(arg('repeats', '3'));
const counts = arg('workers', '0,1,2,4').split(',').map(Number);

const base = englishTexts();
const docs: { id: string; text: string; source: string }[] = [];
let bytes = 0;
for (let round = 0; bytes < targetMB * 1e6; round++) {
  for (const [i, text] of base.entries()) {
    docs.push({ id: `r${round}-${i}`, text, source: 'books' });
    bytes += Buffer.byteLength(text);
  }
}
const dir = mkdtempSync(path.join(tmpdir(), 'pretext-bench-shards-'));
await writeDocuments(docs, { outDir: path.join(dir, 'docs') });
console.log(`${docs.length} documents, ${(bytes / 1e6).toFixed(1)} MB; ${availableParallelism()} cores; median of ${repeats}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const speeds = new Map<number, number[]>();
for (let r = 0; r < repeats; r++) {
  for (const workers of counts) {
    const out = path.join(dir, `tokens-${workers}`);
    const t0 = performance.now();
    // a path, so every run (in-thread too) starts with a freshly loaded tokenizer and a cold cache
    await tokenizeShards({ input: path.join(dir, 'docs'), tokenizer: GPT2_JSON(), outDir: out, workers });
    const mbs = bytes / 1e6 / ((performance.now() - t0) / 1000);
    speeds.set(workers, [...(speeds.get(workers) ?? []), mbs]);
    rmSync(out, { recursive: true });
  }
}
const inThread = median(speeds.get(counts[0]!)!);
for (const workers of counts) {
  const m = median(speeds.get(workers)!);
  console.log(`workers ${String(workers).padStart(2)}: ${m.toFixed(2).padStart(7)} MB/s  ${(m / inThread).toFixed(2)}× of workers=${counts[0]}`);
}
rmSync(dir, { recursive: true });

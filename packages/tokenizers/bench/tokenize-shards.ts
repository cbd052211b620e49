/**
 * tokenizeShards throughput by worker count on the same document shards (stdlib Moby-Dick + State of the Union,
 * repeated to `--mb`), GPT-2 tokenizer. Each repeat runs every worker count once (interleaved, so load changes
 * hit all alike); prints the median docs/s and MB/s, the ratio to in-thread and the 2-vs-1-worker scaling, the
 * CPU seconds the process used (all threads: what the parallel version costs beyond in-thread), when the first unit
 * of work came back (start-up: loading the tokenizer, starting workers, a cold cache), and the load average (`uptime`) before and after, since the cores may be shared. Every run loads the tokenizer
 * from its file, as a user's does; worker start-up is included. The outputs of all counts must be identical.
 *
 *   npx tsc -b && npx tsx bench/tokenize-shards.ts [--mb 26] [--repeats 5] [--workers 0,1,2] [--batch-chars N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
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
const repeats = Number(arg('repeats', '5'));
const counts = arg('workers', '0,1,2').split(',').map(Number);
const batchChars = args.includes('--batch-chars') ? Number(arg('batch-chars', '0')) : undefined;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

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
console.log(`${docs.length} documents, ${(bytes / 1e6).toFixed(1)} MB; ${availableParallelism()} cores; median of ${repeats}; Node ${process.version}`);
console.log(`load average (1, 5, 15 min) at start: ${load()}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = new Map<number, number[]>();
const cpu = new Map<number, number[]>();
const first = new Map<number, number[]>();
let reference: string | undefined;
for (let r = 0; r < repeats; r++) {
  const line: string[] = [];
  for (const workers of counts) {
    const out = path.join(dir, `tokens-${workers}`);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let firstAt = 0;
    await tokenizeShards({
      input: path.join(dir, 'docs'),
      tokenizer: GPT2_JSON(),
      outDir: out,
      workers,
      ...(batchChars ? { batchChars } : {}),
      onProgress: () => (firstAt ||= performance.now()),
    });
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cs = (c.user + c.system) / 1e6; // all threads of this process
    seconds.set(workers, [...(seconds.get(workers) ?? []), s]);
    cpu.set(workers, [...(cpu.get(workers) ?? []), cs]);
    first.set(workers, [...(first.get(workers) ?? []), (firstAt - t0) / 1000]);
    line.push(`${workers}w ${s.toFixed(2)} s (cpu ${cs.toFixed(2)} s)`);
    const manifest = readFileSync(path.join(out, 'manifest.json'), 'utf8');
    if (reference !== undefined && manifest !== reference) throw new Error(`workers=${workers} wrote different shards than workers=${counts[0]}`);
    reference = manifest;
    rmSync(out, { recursive: true });
  }
  console.log(`repeat ${r + 1}: ${line.join(', ')}; load ${load()}`);
}
const name = (w: number) => (w === 0 ? 'in-thread' : `${w} worker${w > 1 ? 's' : ''}`);
const rate = new Map(counts.map((w) => [w, 1 / median(seconds.get(w)!)]));
console.log(`\n| workers | docs/s | MB/s | × in-thread | CPU s (all threads) | first unit done after s |\n| --- | ---: | ---: | ---: | ---: | ---: |`);
for (const w of counts) {
  const x = rate.get(w)!;
  console.log(`| ${name(w)} | ${(docs.length * x).toFixed(0)} | ${((bytes / 1e6) * x).toFixed(2)} | ${rate.has(0) ? (x / rate.get(0)!).toFixed(2) : '–'} | ${median(cpu.get(w)!).toFixed(2)} | ${median(first.get(w)!).toFixed(2)} |`);
}
if (rate.has(1) && rate.has(2)) console.log(`\nscaling 2 workers / 1 worker: ${(rate.get(2)! / rate.get(1)!).toFixed(2)}×`);
console.log(`load average at end: ${load()}; outputs identical for all counts`);
rmSync(dir, { recursive: true });

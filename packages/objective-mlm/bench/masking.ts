/**
 * Masking throughput against an anchor measured in the same run: copying each row and shuffling its positions
 * with the same Rng (the least work any budget masking must do). Prints tokens/s and the ratio, median of 5.
 * Run: npx tsx --conditions=@pretext/source bench/masking.ts
 */
import { Rng, type Example } from '@pretext/core';
import { loadFixtureCorpus, streamDocuments, take } from '@pretext/objective-testing';
import { mlm, type MlmOptions } from '../src/index.js';

const SEQ = 128;
const corpus = loadFixtureCorpus({}, import.meta.url);
const ctx = (seed: number) => ({ seqLen: SEQ, vocabSize: corpus.vocabSize, special: corpus.special, rng: new Rng(seed) });
const rows: Example[] = await take(mlm().defaultExamples!(streamDocuments(corpus.documents), ctx(0)));
const tokens = rows.length * SEQ;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function time(run: () => void): number {
  const ms: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    run();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const anchor = time(() => {
  const rng = new Rng(1);
  for (const e of rows) {
    const copy = Int32Array.from(e.input_ids);
    const order = new Int32Array(SEQ);
    for (let i = 0; i < SEQ; i++) order[i] = i;
    rng.shuffle(order);
    copy[order[0]!] = 4;
  }
});
console.log(`anchor (copy + shuffle): ${((tokens / anchor) * 1000 / 1e6).toFixed(1)} M tokens/s`);
const cases: [string, MlmOptions][] = [
  ['budget', {}],
  ['bernoulli', { selection: 'bernoulli' }],
  ['whole word', { wholeWord: true }],
  ['n-gram + whole word', { wholeWord: true, ngram: { maxN: 3 } }],
];
for (const [name, options] of cases) {
  const objective = mlm(options);
  const ms = time(() => {
    const c = ctx(1);
    for (const e of rows) objective.transform!(e, c);
  });
  console.log(`${name.padEnd(20)} ${((tokens / ms) * 1000 / 1e6).toFixed(1)} M tokens/s, ${(ms / anchor).toFixed(2)}× the anchor's time`);
}

/**
 * Next-sentence prediction alone on synthetic topic documents with a deliberately simple pair builder, the twin of
 * bench/nsp-simple-torch.py (the same task, model shape, initialisation and optimiser in PyTorch), so the two
 * trainers can be compared on one task (docs/fine-tuning.md, "the [CLS] plateau"). The two draw their own initial
 * weights and batches, and at this learning rate the outcome depends mostly on the initial weights; bench/nsp-parity.ts
 * gives both the same weights and batches and shows the trainers agree step by step.
 * Documents: 2000, each of one random topic out of 20, 8 sentences of 6–10 ids drawn from the topic's 30 ids.
 * A pair: A = the first k sentences (k uniform in 1..7); B = the rest (label 0) or, half the time, a random
 * document's sentences from a random start (label 1); the longer side trimmed to 61 tokens.
 *   npx tsx --conditions=@pretext/source bench/nsp-simple.ts [--steps 600] [--lr 1e-3] [--init 0.02] [--seed 5]
 */
import { nsp } from '@pretext/objective-nsp';
import { FIXTURE_SPECIAL, trainOnFixture } from '@pretext/objective-testing';
import { Rng, type DataContext, type Example, type Objective, type TokenizedDocument } from '@pretext/core';
import { SIMPLE_VOCAB, simpleDocuments, simplePair } from './simple-pairs.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : fallback);
const num = (n: string, f: number) => Number(opt(n, String(f)));
const L = 64;
const sentences = simpleDocuments(new Rng(1));
const documents: TokenizedDocument[] = sentences.map((ss, d) => {
  const ids = ss.flat();
  return { id: `d${d}`, ids: Int32Array.from(ids), sentenceStarts: Int32Array.of(0), wordStarts: new Uint8Array(ids.length).fill(1) };
});
const corpus = { documents, vocabSize: SIMPLE_VOCAB, special: FIXTURE_SPECIAL, piece: (i: number) => String(i) };

const simple: Objective = {
  ...nsp({ singleSegment: 'skip' }),
  examples: async function* (docs: AsyncIterable<TokenizedDocument>, ctx: DataContext): AsyncIterable<Example> {
    for await (const doc of docs) yield simplePair(sentences[Number(doc.id.slice(1))]!, sentences, ctx.rng, L);
  },
};

const started = performance.now();
const { validation } = await trainOnFixture({
  corpus,
  objectives: [simple],
  model: { architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: L, dropout: 0, typeVocabSize: 2, initializerRange: num('init', 0.02) },
  seqLen: L,
  batchSize: 16,
  maxSteps: num('steps', 600),
  learningRate: num('lr', 1e-3),
  schedule: 'constant',
  warmupSteps: 20,
  evalEvery: 50,
  evalBatches: 16,
  checkpointEvery: 1e6,
  seed: num('seed', 5),
});
console.log(`${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log('step  loss    accuracy');
for (const row of validation) console.log(`${String(row['step']).padEnd(5)} ${Number(row['nsp.nsp']).toFixed(4)}  ${Number(row['nsp.accuracy']).toFixed(4)}`);

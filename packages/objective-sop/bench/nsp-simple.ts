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

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : fallback);
const num = (n: string, f: number) => Number(opt(n, String(f)));
const T = 20;
const P = 30;
const L = 64;
const rng = new Rng(1);
const sentences: number[][][] = [];
const documents: TokenizedDocument[] = [];
for (let d = 0; d < 2000; d++) {
  const t = rng.int(T);
  const ss = Array.from({ length: 8 }, () => Array.from({ length: rng.randint(6, 10) }, () => 5 + t * P + rng.int(P)));
  sentences.push(ss);
  const ids = ss.flat();
  documents.push({ id: `d${d}`, ids: Int32Array.from(ids), sentenceStarts: Int32Array.of(0), wordStarts: new Uint8Array(ids.length).fill(1) });
}
const corpus = { documents, vocabSize: 5 + T * P, special: FIXTURE_SPECIAL, piece: (i: number) => String(i) };

const simple: Objective = {
  ...nsp({ singleSegment: 'skip' }),
  examples: async function* (docs: AsyncIterable<TokenizedDocument>, ctx: DataContext): AsyncIterable<Example> {
    const r = ctx.rng;
    for await (const doc of docs) {
      const d = sentences[Number(doc.id.slice(1))]!;
      const k = 1 + r.int(7);
      const a = d.slice(0, k).flat();
      const negative = r.float() < 0.5;
      const b = negative ? sentences[r.int(sentences.length)]!.slice(r.int(8)).flat() : d.slice(k).flat();
      while (a.length + b.length > L - 3) (a.length > b.length ? a : b).pop();
      const ids = [2, ...a, 3, ...b, 3];
      const input_ids = new Int32Array(L);
      const attention_mask = new Uint8Array(L);
      const token_type_ids = new Int32Array(L);
      const special_tokens_mask = new Uint8Array(L);
      input_ids.set(ids);
      attention_mask.fill(1, 0, ids.length);
      token_type_ids.fill(1, a.length + 2, ids.length);
      for (const i of [0, a.length + 1, ids.length - 1]) special_tokens_mask[i] = 1;
      yield { input_ids, attention_mask, token_type_ids, special_tokens_mask, word_starts: new Uint8Array(L), next_sentence_label: negative ? 1 : 0 };
    }
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

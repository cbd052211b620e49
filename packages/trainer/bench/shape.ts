import { Rng, collate, composeObjectives, type Batch } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { selectBackend, type BackendName } from '../src/backend.js';
import { resolveModelConfig } from '../src/model.js';
import { AdamW } from '../src/optimizer.js';
import { Session } from '../src/session.js';

/**
 * The model shape the trainer benchmarks share, from `--d --layers --vocab --seq --batch` (defaults: the issue's
 * GPT, d 256, 4 layers, vocab 8192, sequence 128, batch 16; heads of 64), and the other `--key value` options.
 */
export interface BenchShape {
  readonly d: number;
  readonly layers: number;
  readonly vocab: number;
  readonly seq: number;
  readonly batch: number;
  readonly heads: number;
  /** Every `--key value` pair given. */
  readonly args: ReadonlyMap<string, string>;
  /** `--key` as a number, else `fallback`. */
  num(key: string, fallback: number): number;
}

export function benchShape(argv: readonly string[] = process.argv.slice(2)): BenchShape {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? '');
  const num = (key: string, fallback: number) => (args.has(key) ? Number(args.get(key)) : fallback);
  const d = num('d', 256);
  return { d, layers: num('layers', 4), vocab: num('vocab', 8192), seq: num('seq', 128), batch: num('batch', 16), heads: Math.max(1, d / 64), args, num };
}

/** The benchmarks' step: a pre-LN GPT of the shape with clm, AdamW, and one batch of random tokens (seeded). */
export async function clmBench(shape: BenchShape, backendName: BackendName = 'wasm') {
  const backend = await selectBackend({ backend: backendName });
  const { tf } = backend;
  const { d, layers, heads, vocab, seq, batch } = shape;
  const model = resolveModelConfig({ architecture: 'decoder', dModel: d, nLayers: layers, nHeads: heads, dFF: 4 * d, maxPositions: seq, dropout: 0 }, 'decoder');
  const session = new Session({ tf, backend: backend.name, composition: composeObjectives([clm()]), model, vocabSize: vocab, seqLen: seq, seed: 1 });
  const optimizer = new AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
  const rng = new Rng(1);
  const examples = Array.from({ length: batch }, () => ({
    input_ids: Int32Array.from({ length: seq }, () => rng.int(vocab)),
    attention_mask: new Uint8Array(seq).fill(1),
    labels: Int32Array.from({ length: seq }, () => rng.int(vocab)),
  }));
  const hostBatch: Batch = collate(examples);
  return { backend, tf, model, session, optimizer, hostBatch, examples };
}

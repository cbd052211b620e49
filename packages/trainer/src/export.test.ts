import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, composeObjectives } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments, stream } from '@pretext/test-fixtures';
import { selectBackend } from './backend.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { exportHuggingFace } from './export.js';
import { resolveModelConfig, type ModelConfig } from './model.js';
import { AdamW } from './optimizer.js';
import { readSafetensors, type NamedTensor } from './safetensors.js';
import { Session } from './session.js';
import { train } from './train.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-export-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const docs = bookDocuments('gutenberg/markovify/sherlock.txt', 200);
const gpt: ModelConfig = { architecture: 'decoder', dModel: 16, nLayers: 2, nHeads: 2, dFF: 32, maxPositions: 16, dropout: 0 };

/** GPT-2's forward pass written from the Hugging Face modeling code, on the exported tensors, in plain JS. */
function gpt2Logits(t: Map<string, NamedTensor>, ids: number[], nLayers: number, nHeads: number): Float32Array {
  const w = (n: string) => t.get(n)!.data as Float32Array;
  const d = t.get('wte.weight')!.shape[1]!;
  const vocab = t.get('wte.weight')!.shape[0]!;
  const T = ids.length;
  const hd = d / nHeads;
  let x = ids.map((id, p) => Array.from({ length: d }, (_, k) => w('wte.weight')[id * d + k]! + w('wpe.weight')[p * d + k]!));
  const ln = (v: number[], g: Float32Array, b: Float32Array) => {
    const m = v.reduce((a, c) => a + c, 0) / v.length;
    const s = v.reduce((a, c) => a + (c - m) ** 2, 0) / v.length;
    return v.map((c, k) => ((c - m) / Math.sqrt(s + 1e-5)) * g[k]! + b[k]!);
  };
  const conv1d = (v: number[], W: Float32Array, B: Float32Array, out: number) =>
    Array.from({ length: out }, (_, j) => v.reduce((a, c, i) => a + c * W[i * out + j]!, B[j]!));
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  for (let l = 0; l < nLayers; l++) {
    const h = (n: string) => w(`h.${l}.${n}`);
    const a = x.map((v) => ln(v, h('ln_1.weight'), h('ln_1.bias')));
    const qkv = a.map((v) => conv1d(v, h('attn.c_attn.weight'), h('attn.c_attn.bias'), 3 * d));
    const ctx = x.map(() => new Array<number>(d).fill(0));
    for (let head = 0; head < nHeads; head++) {
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: i + 1 }, (_, j) => {
          let s = 0;
          for (let k = 0; k < hd; k++) s += qkv[i]![head * hd + k]! * qkv[j]![d + head * hd + k]!;
          return s / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((p, c) => p + c, 0);
        for (let j = 0; j <= i; j++) for (let k = 0; k < hd; k++) ctx[i]![head * hd + k]! += (e[j]! / z) * qkv[j]![2 * d + head * hd + k]!;
      }
    }
    x = x.map((v, i) => conv1d(ctx[i]!, h('attn.c_proj.weight'), h('attn.c_proj.bias'), d).map((c, k) => c + v[k]!));
    x = x.map((v) => {
      const m = conv1d(ln(v, h('ln_2.weight'), h('ln_2.bias')), h('mlp.c_fc.weight'), h('mlp.c_fc.bias'), h('mlp.c_fc.bias').length).map(gelu);
      return conv1d(m, h('mlp.c_proj.weight'), h('mlp.c_proj.bias'), d).map((c, k) => c + v[k]!);
    });
  }
  const last = ln(x[T - 1]!, w('ln_f.weight'), w('ln_f.bias'));
  return Float32Array.from({ length: vocab }, (_, v) => last.reduce((a, c, k) => a + c * w('wte.weight')[v * d + k]!, 0));
}

describe('exportHuggingFace', () => {
  it('writes GPT-2 tensor names whose forward pass (Hugging Face semantics) gives the trained model’s logits', async () => {
    const out = await tempDir();
    const result = await train({
      objectives: [clm()],
      data: { train: () => stream(docs) },
      vocabSize: BYTE_VOCAB,
      special: BYTE_SPECIAL,
      model: gpt,
      outDir: out,
      seqLen: 16,
      batchSize: 4,
      maxSteps: 3,
      learningRate: 1e-2,
      seed: 2,
    });
    const hf = await tempDir();
    const exported = await exportHuggingFace({ checkpoint: result.checkpoint!, outDir: hf });
    expect(exported.format).toBe('gpt2');
    expect(exported.skipped).toEqual(['clm/bias']);
    const { tensors } = await readSafetensors(exported.modelFile);
    expect(tensors.get('h.1.attn.c_attn.weight')!.shape).toEqual([16, 48]);
    expect(tensors.get('h.0.mlp.c_fc.weight')!.shape).toEqual([16, 32]);
    expect(tensors.get('wpe.weight')!.shape).toEqual([16, 16]);
    const config = JSON.parse(await readFile(exported.configFile, 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', n_embd: 16, n_layer: 2, n_head: 2, n_inner: 32, vocab_size: BYTE_VOCAB, activation_function: 'gelu_new', eos_token_id: 256 });

    // The trained model's own next-token logits, minus clm's output bias (GPT-2 has none).
    const { tf } = await selectBackend({ backend: 'wasm' });
    const session = new Session({ tf, backend: 'wasm', composition: composeObjectives([clm()]), model: resolveModelConfig(gpt, 'decoder'), vocabSize: BYTE_VOCAB, seqLen: 16, seed: 2 });
    const optimizer = new AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    await loadCheckpoint(result.checkpoint!, session, optimizer);
    const ids = [...Buffer.from('Holmes sa')];
    const ours = session.nextTokenLogits(Int32Array.from(ids));
    const bias = session.store.get('clm/bias').dataSync();
    const theirs = gpt2Logits(tensors, ids, 2, 2);
    let maxDiff = 0;
    for (let v = 0; v < BYTE_VOCAB; v++) maxDiff = Math.max(maxDiff, Math.abs(ours[v]! - bias[v]! - theirs[v]!));
    expect(maxDiff).toBeLessThan(1e-4);
    optimizer.dispose();
    session.dispose();
  });

  it('writes BERT names with nn.Linear weights transposed, and refuses a decoder as BERT', async () => {
    const { tf } = await selectBackend({ backend: 'wasm' });
    // A BERT-shaped checkpoint written by the trainer's own checkpoint code.
    const encoder: ModelConfig = { architecture: 'encoder', dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, maxPositions: 16, dropout: 0 };
    const model = resolveModelConfig(encoder, 'encoder');
    const objective = { ...clm(), name: 'probe', architecture: 'encoder' as const };
    const session = new Session({ tf, backend: 'wasm', composition: composeObjectives([objective]), model, vocabSize: BYTE_VOCAB, seqLen: 16, seed: 4 });
    const optimizer = new AdamW(tf, session.store.list(), { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    const dir = await tempDir();
    const ckpt = await saveCheckpoint(dir, session, optimizer, {
      format: 'pretext-checkpoint', version: 1, step: 1, optimizerStep: 0, data: { epoch: 0, consumed: 0 }, seed: 4, scheduleSteps: 1, planSteps: 1, evalCount: 1,
      fingerprint: { model, vocabSize: BYTE_VOCAB, special: BYTE_SPECIAL }, train: { first: null }, validation: { first: null }, tokens: 0, elapsedSeconds: 0,
    }, 1);
    const exported = await exportHuggingFace({ checkpoint: ckpt, outDir: await tempDir() });
    expect(exported.format).toBe('bert');
    const { tensors } = await readSafetensors(exported.modelFile);
    const ours = session.store.get('backbone/h0/mlp/fc/kernel').dataSync(); // [16, 32]
    const theirs = tensors.get('encoder.layer.0.intermediate.dense.weight')!; // [32, 16]
    expect(theirs.shape).toEqual([32, 16]);
    expect(theirs.data[5 * 16 + 3]).toBe(ours[3 * 32 + 5]);
    expect(tensors.get('embeddings.token_type_embeddings.weight')!.shape).toEqual([2, 16]);
    expect(tensors.has('encoder.layer.0.attention.output.LayerNorm.weight')).toBe(true);
    await expect(exportHuggingFace({ checkpoint: ckpt, outDir: await tempDir(), format: 'gpt2' })).rejects.toBeInstanceOf(ConfigError);
    optimizer.dispose();
    session.dispose();
  });
});

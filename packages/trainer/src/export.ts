import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, ManifestError, type SpecialTokens } from '@pretext/core';
import { MODEL_FILE, STATE_FILE, type CheckpointState } from './checkpoint.js';
import type { ModelConfig } from './model.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors.js';

export type HuggingFaceFormat = 'gpt2' | 'bert';

export interface ExportOptions {
  /** A checkpoint folder (`…/checkpoints/step-N`). */
  readonly checkpoint: string;
  /** Folder for `model.safetensors` and `config.json`. */
  readonly outDir: string;
  /** Default: `gpt2` for decoders, `bert` for encoders. */
  readonly format?: HuggingFaceFormat;
}

export interface ExportResult {
  readonly format: HuggingFaceFormat;
  readonly modelFile: string;
  readonly configFile: string;
  readonly tensors: number;
  /** pretext parameters with no Hugging Face counterpart (objective heads other than the tied LM output). */
  readonly skipped: string[];
}

/**
 * Exports a checkpoint's backbone as safetensors with Hugging Face tensor names and a `config.json`, so
 * `GPT2LMHeadModel.from_pretrained(dir)` / `BertModel.from_pretrained(dir)` load it.
 *
 * GPT-2 (`transformers` GPT2Model names, Conv1D weights stored `[in, out]` like ours): `wte.weight`, `wpe.weight`,
 * `h.{i}.ln_1.{weight,bias}`, `h.{i}.attn.c_attn.{weight,bias}` (q, k, v concatenated), `h.{i}.attn.c_proj.*`,
 * `h.{i}.ln_2.*`, `h.{i}.mlp.c_fc.*`, `h.{i}.mlp.c_proj.*`, `ln_f.*`. The LM head is tied to `wte`; GPT-2 has no
 * output bias, so clm's bias (`clm/bias`) is left out (it is reported in `skipped`).
 *
 * BERT (BertModel names, `nn.Linear` weights stored `[out, in]`, so kernels are transposed):
 * `embeddings.{word,position,token_type}_embeddings.weight`, `embeddings.LayerNorm.*`,
 * `encoder.layer.{i}.attention.self.{query,key,value}.*`, `encoder.layer.{i}.attention.output.dense.*`,
 * `encoder.layer.{i}.attention.output.LayerNorm.*`, `encoder.layer.{i}.intermediate.dense.*`,
 * `encoder.layer.{i}.output.dense.*`, `encoder.layer.{i}.output.LayerNorm.*`. Only post-LayerNorm encoders map to
 * BERT. Both configs set the tanh GELU (`gelu_new`) that pretext uses.
 */
export async function exportHuggingFace(options: ExportOptions): Promise<ExportResult> {
  const stateFile = path.join(options.checkpoint, STATE_FILE);
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as CheckpointState;
  } catch (error) {
    throw new ManifestError(stateFile, `unreadable checkpoint state (${(error as Error).message}); point at a checkpoints/step-N folder`);
  }
  const model = state.fingerprint['model'] as Required<ModelConfig>;
  const vocabSize = state.fingerprint['vocabSize'] as number;
  const special = state.fingerprint['special'] as SpecialTokens;
  const format: HuggingFaceFormat = options.format ?? (model.architecture === 'decoder' ? 'gpt2' : 'bert');
  const { tensors } = await readSafetensors(path.join(options.checkpoint, MODEL_FILE));
  const get = (name: string): NamedTensor => {
    const t = tensors.get(name);
    if (!t) throw new ManifestError(path.join(options.checkpoint, MODEL_FILE), `missing tensor ${name}`);
    return t;
  };
  const out = new Map<string, NamedTensor>();
  const used = new Set<string>();
  const take = (name: string) => {
    used.add(name);
    return get(name);
  };
  const { nLayers, dModel } = model;
  let config: Record<string, unknown>;

  if (format === 'gpt2') {
    if (model.architecture !== 'decoder' || !model.preLayerNorm) throw new ConfigError('format', format, 'a pre-LayerNorm decoder for GPT-2; export encoders as bert');
    out.set('wte.weight', take('backbone/wte'));
    out.set('wpe.weight', take('backbone/wpe'));
    for (let i = 0; i < nLayers; i++) {
      const p = (n: string) => `backbone/h${i}/${n}`;
      const h = (n: string) => `h.${i}.${n}`;
      out.set(h('ln_1.weight'), take(p('ln_1/gamma')));
      out.set(h('ln_1.bias'), take(p('ln_1/beta')));
      out.set(h('attn.c_attn.weight'), concatColumns([take(p('attn/q/kernel')), take(p('attn/k/kernel')), take(p('attn/v/kernel'))]));
      out.set(h('attn.c_attn.bias'), concatColumns([take(p('attn/q/bias')), take(p('attn/k/bias')), take(p('attn/v/bias'))]));
      out.set(h('attn.c_proj.weight'), take(p('attn/proj/kernel')));
      out.set(h('attn.c_proj.bias'), take(p('attn/proj/bias')));
      out.set(h('ln_2.weight'), take(p('ln_2/gamma')));
      out.set(h('ln_2.bias'), take(p('ln_2/beta')));
      out.set(h('mlp.c_fc.weight'), take(p('mlp/fc/kernel')));
      out.set(h('mlp.c_fc.bias'), take(p('mlp/fc/bias')));
      out.set(h('mlp.c_proj.weight'), take(p('mlp/proj/kernel')));
      out.set(h('mlp.c_proj.bias'), take(p('mlp/proj/bias')));
    }
    out.set('ln_f.weight', take('backbone/ln_f/gamma'));
    out.set('ln_f.bias', take('backbone/ln_f/beta'));
    config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: vocabSize,
      n_positions: model.maxPositions,
      n_embd: dModel,
      n_layer: nLayers,
      n_head: model.nHeads,
      n_inner: model.dFF,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      resid_pdrop: model.dropout,
      embd_pdrop: model.dropout,
      attn_pdrop: model.dropout,
      tie_word_embeddings: true,
      bos_token_id: special.bos ?? special.eos ?? null,
      eos_token_id: special.eos ?? null,
      pad_token_id: special.pad,
    };
  } else {
    if (model.architecture !== 'encoder' || model.preLayerNorm) throw new ConfigError('format', format, 'a post-LayerNorm encoder for BERT; export decoders as gpt2');
    out.set('embeddings.word_embeddings.weight', take('backbone/wte'));
    out.set('embeddings.position_embeddings.weight', take('backbone/wpe'));
    out.set('embeddings.token_type_embeddings.weight', take('backbone/wtt'));
    out.set('embeddings.LayerNorm.weight', take('backbone/emb_ln/gamma'));
    out.set('embeddings.LayerNorm.bias', take('backbone/emb_ln/beta'));
    for (let i = 0; i < nLayers; i++) {
      const p = (n: string) => `backbone/h${i}/${n}`;
      const l = (n: string) => `encoder.layer.${i}.${n}`;
      for (const [ours, theirs] of [['q', 'query'], ['k', 'key'], ['v', 'value']] as const) {
        out.set(l(`attention.self.${theirs}.weight`), transpose2d(take(p(`attn/${ours}/kernel`))));
        out.set(l(`attention.self.${theirs}.bias`), take(p(`attn/${ours}/bias`)));
      }
      out.set(l('attention.output.dense.weight'), transpose2d(take(p('attn/proj/kernel'))));
      out.set(l('attention.output.dense.bias'), take(p('attn/proj/bias')));
      out.set(l('attention.output.LayerNorm.weight'), take(p('ln_1/gamma')));
      out.set(l('attention.output.LayerNorm.bias'), take(p('ln_1/beta')));
      out.set(l('intermediate.dense.weight'), transpose2d(take(p('mlp/fc/kernel'))));
      out.set(l('intermediate.dense.bias'), take(p('mlp/fc/bias')));
      out.set(l('output.dense.weight'), transpose2d(take(p('mlp/proj/kernel'))));
      out.set(l('output.dense.bias'), take(p('mlp/proj/bias')));
      out.set(l('output.LayerNorm.weight'), take(p('ln_2/gamma')));
      out.set(l('output.LayerNorm.bias'), take(p('ln_2/beta')));
    }
    config = {
      architectures: ['BertModel'],
      model_type: 'bert',
      vocab_size: vocabSize,
      hidden_size: dModel,
      num_hidden_layers: nLayers,
      num_attention_heads: model.nHeads,
      intermediate_size: model.dFF,
      hidden_act: 'gelu_new',
      hidden_dropout_prob: model.dropout,
      attention_probs_dropout_prob: model.dropout,
      max_position_embeddings: model.maxPositions,
      type_vocab_size: model.typeVocabSize,
      layer_norm_eps: 1e-12,
      pad_token_id: special.pad,
    };
  }
  await mkdir(options.outDir, { recursive: true });
  const modelFile = path.join(options.outDir, 'model.safetensors');
  const configFile = path.join(options.outDir, 'config.json');
  await writeSafetensors(modelFile, out, { format: 'pt' });
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const skipped = [...tensors.keys()].filter((k) => !used.has(k));
  return { format, modelFile, configFile, tensors: out.size, skipped };
}

/** Concatenates `[r, c_i]` matrices (or vectors) along the last axis. */
function concatColumns(parts: NamedTensor[]): NamedTensor {
  const first = parts[0]!;
  if (first.shape.length === 1) {
    const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p.data as Float32Array, at);
      at += p.data.length;
    }
    return { dtype: 'F32', shape: [data.length], data };
  }
  const rows = first.shape[0]!;
  const widths = parts.map((p) => p.shape[1]!);
  const total = widths.reduce((a, b) => a + b, 0);
  const data = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let at = r * total;
    parts.forEach((p, j) => {
      const w = widths[j]!;
      data.set((p.data as Float32Array).subarray(r * w, (r + 1) * w), at);
      at += w;
    });
  }
  return { dtype: 'F32', shape: [rows, total], data };
}

function transpose2d(t: NamedTensor): NamedTensor {
  const [rows, cols] = t.shape as [number, number];
  const src = t.data as Float32Array;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = src[r * cols + c]!;
  return { dtype: 'F32', shape: [cols, rows], data };
}

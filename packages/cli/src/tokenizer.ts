import { createInterface } from 'node:readline';
import { readDocuments, readManifest } from '@pretext/shards';
import { exportLlmc, exportMegatron, loadTokenizer, tokenizeShards, trainBpe, trainWordPiece, type Tokenizer } from '@pretext/tokenizers';
import { createBar, formatBytes } from './progress.js';

export interface TrainTokenizerOptions {
  type: 'bpe' | 'wordpiece';
  vocabSize: number;
  minFrequency?: number;
  special?: string[];
  from: string;
  out: string;
  quiet?: boolean;
}

/** `pretext tokenizer train`: learns a vocabulary from the text of document shards. */
export async function trainTokenizer(options: TrainTokenizerOptions): Promise<Tokenizer> {
  async function* texts() {
    for await (const doc of readDocuments(options.from)) yield doc.text;
  }
  const bar = createBar('tokenizer', 1, '{phase} {done}/{total}', options);
  try {
    const common = {
      vocabSize: options.vocabSize,
      ...(options.minFrequency !== undefined ? { minFrequency: options.minFrequency } : {}),
      ...(options.special ? { specialTokens: options.special } : {}),
      onProgress: (p: { phase: string; done: number; total: number }) => {
        bar.setTotal(p.total);
        bar.update(p.done, { phase: p.phase.padEnd(5), done: p.done, total: p.total });
      },
    };
    const tokenizer = options.type === 'bpe' ? await trainBpe(texts(), common) : await trainWordPiece(texts(), common);
    await tokenizer.save(options.out);
    return tokenizer;
  } finally {
    bar.stop();
  }
}

/** `pretext tokenizer encode`: one JSON array of ids per input line (with `--offsets`, ids and character offsets). */
export async function encodeLines(tokenizerFile: string, options: { offsets?: boolean }): Promise<void> {
  const tokenizer = await loadTokenizer(tokenizerFile);
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (options.offsets) {
      const e = tokenizer.encodeWithOffsets(line);
      const offsets = Array.from(e.starts, (s, i) => [s, e.ends[i]]);
      process.stdout.write(`${JSON.stringify({ ids: Array.from(e.ids), offsets })}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(Array.from(tokenizer.encode(line)))}\n`);
    }
  }
}

/** `pretext tokenize`: document shards into token shards. */
export async function tokenize(input: string, options: { tokenizer: string; out: string; workers?: number; resume?: boolean; quiet?: boolean }) {
  const bar = createBar('tokenize', 1, '{docs} docs | {mb} | {tokens} tokens', options);
  try {
    return await tokenizeShards({
      input,
      tokenizer: options.tokenizer,
      outDir: options.out,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.resume ? { resume: true } : {}),
      onProgress: (p) => {
        if (p.totalBytes) bar.setTotal(p.totalBytes);
        bar.update(p.bytes, { docs: p.docs, mb: formatBytes(p.bytes), tokens: p.tokens });
      },
    });
  } finally {
    bar.stop();
  }
}

/** `pretext export megatron|llmc`: token shards into a distributed trainer's own format. */
export async function exportTokens(format: 'megatron' | 'llmc', input: string, out: string, options: { quiet?: boolean }) {
  const total = Number((await readManifest(input)).stats?.tokens ?? 0);
  const bar = createBar('export', total, '{docs} docs | {tokens} tokens', options);
  const onProgress = (p: { documents: number; tokens: number }) => bar.update(p.tokens, { docs: p.documents, tokens: p.tokens });
  try {
    return format === 'megatron' ? await exportMegatron(input, out, { onProgress }) : await exportLlmc(input, out, { onProgress });
  } finally {
    bar.stop();
  }
}

import { createInterface } from 'node:readline';
import { ConfigError } from '@pretext/core';
import { readDocuments } from '@pretext/shards';
import { loadTokenizer, tokenizeShards, trainBpe, type Tokenizer } from '@pretext/tokenizers';
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
  if (options.type !== 'bpe') {
    const mod = (await import('@pretext/tokenizers')) as Record<string, unknown>;
    if (typeof mod.trainWordPiece !== 'function') throw new ConfigError('--type', options.type, 'bpe (WordPiece training is not available in this version)');
  }
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
    let tokenizer: Tokenizer;
    if (options.type === 'bpe') tokenizer = await trainBpe(texts(), common);
    else {
      const mod = (await import('@pretext/tokenizers')) as unknown as { trainWordPiece: typeof trainBpe };
      tokenizer = await mod.trainWordPiece(texts(), common);
    }
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
export async function tokenize(input: string, options: { tokenizer: string; out: string; workers?: number; quiet?: boolean }) {
  const bar = createBar('tokenize', 1, '{docs} docs | {mb} | {tokens} tokens', options);
  try {
    return await tokenizeShards({
      input,
      tokenizer: options.tokenizer,
      outDir: options.out,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      onProgress: (p) => {
        if (p.totalBytes) bar.setTotal(p.totalBytes);
        bar.update(p.bytes, { docs: p.docs, mb: formatBytes(p.bytes), tokens: p.tokens });
      },
    });
  } finally {
    bar.stop();
  }
}

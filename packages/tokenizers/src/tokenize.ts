import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ConfigError, PretextError, startWorker, type TokenizedDocument } from '@pretext/core';
import { readDocumentTexts, readManifest, writeTokenizedDocuments, type Manifest } from '@pretext/shards';
import { BpeTokenizer } from './bpe.js';
import type { CompiledTokenizer } from './compiled.js';
import { loadTokenizer, tokenizerFromJSON } from './load.js';
import { decodeTexts, tokenizeBatch, type TextsUnit, type TokenizedBatch } from './tokenize-batch.js';
import type { WorkerReply } from './tokenize-worker.js';
import type { Tokenizer } from './types.js';
import { WordPieceTokenizer } from './wordpiece.js';

export interface TokenizeProgress {
  /** Documents done so far (those of a resumed run's kept shards included). */
  docs: number;
  /** UTF-8 bytes of text done so far. */
  bytes: number;
  tokens: number;
  /** Documents a resumed run found already written (kept, not tokenized again). */
  skipped: number;
  /** Text bytes of the whole input, when its manifest records them. */
  totalBytes?: number;
}

export interface TokenizeShardsOptions {
  /** Folder of document shards. */
  input: string;
  /** A tokenizer, or the path of a tokenizer file (tokenizer.json, vocab.json, vocab.txt). */
  tokenizer: Tokenizer | string;
  outDir: string;
  /** Worker threads; 0 tokenizes in this thread. Default: `defaultWorkers()`. Output is the same for any count. */
  workers?: number;
  /**
   * Continue an interrupted run: finished shards are kept and their documents are not tokenized again (see
   * @pretext/shards); the result equals an uninterrupted run.
   */
  resume?: boolean;
  /** Stops the run (rejecting with the signal's reason) at the next unit of work; finished shards stay for `resume`. */
  signal?: AbortSignal;
  /** Text per unit of work handed to a worker, in UTF-8 bytes (a unit never spans record batches). Default 1 Mi. */
  batchChars?: number;
  /** A token shard closes at this many tokens (default of @pretext/shards: 32 Mi). */
  maxShardTokens?: number;
  onProgress?: (p: TokenizeProgress) => void;
}

/** Version of the sentence rule, recorded in manifests so a changed rule is visible. */
export const SENTENCE_RULE = 'punct+space+upper|cjk-stop|blank-line/v1';

/**
 * Tokenizes document shards into token shards (`input_ids`, `sentence_starts`, `word_starts`) with worker
 * threads. Documents keep their order and ids; the output bytes do not depend on the worker count.
 */
export async function tokenizeShards(options: TokenizeShardsOptions): Promise<Manifest> {
  const tokenizer = typeof options.tokenizer === 'string' ? await loadTokenizer(options.tokenizer) : options.tokenizer;
  const batchChars = options.batchChars ?? 1 << 20;
  if (!Number.isInteger(batchChars) || batchChars < 1) throw new ConfigError('batchChars', batchChars, 'a positive integer');
  const signal = options.signal;
  signal?.throwIfAborted();
  const inputManifest = await readManifest(options.input);
  const totalBytes = typeof inputManifest.stats?.textBytes === 'number' ? inputManifest.stats.textBytes : undefined;
  const workers = options.workers ?? defaultWorkers(totalBytes);
  if (!Number.isInteger(workers) || workers < 0) throw new ConfigError('workers', workers, 'a non-negative integer');
  const progress: TokenizeProgress = { docs: 0, bytes: 0, tokens: 0, skipped: 0, ...(totalBytes !== undefined ? { totalBytes } : {}) };

  // what a resumed writer keeps; set before the first document is read
  let kept = { documents: 0, tokens: 0 };
  const pool = workers > 0 ? new Pool(workers, compileTokenizer(tokenizer)) : null;
  // Texts travel as UTF-8 bytes with offsets (transferred, not cloned) and are decoded where they are tokenized:
  // the main thread reads shards and writes tokens and never makes a string of a text.
  const run = (unit: TextsUnit): Promise<TokenizedBatch> => (pool ? pool.run(unit) : Promise.resolve(tokenizeBatch(tokenizer, decodeTexts(unit))));

  async function* tokenized(): AsyncIterable<TokenizedDocument> {
    const inFlight: { ids: readonly string[]; offsets: Int32Array; result: Promise<TokenizedBatch> }[] = [];
    const maxInFlight = Math.max(2, workers * 2);
    const drainOne = async function* () {
      const head = inFlight.shift()!;
      const r = await head.result;
      signal?.throwIfAborted();
      let p = 0;
      let q = 0;
      for (let i = 0; i < head.ids.length; i++) {
        const n = r.lengths[i]!;
        const s = r.sentenceCounts[i]!;
        const doc: TokenizedDocument = {
          id: head.ids[i]!,
          ids: r.ids.subarray(p, p + n),
          wordStarts: r.wordStarts.subarray(p, p + n),
          ...(s > 0 ? { sentenceStarts: r.sentenceStarts.subarray(q, q + s) } : {}),
        };
        p += n;
        q += s;
        progress.docs++;
        progress.bytes += head.offsets[i + 1]! - head.offsets[i]!;
        progress.tokens += n;
        yield doc;
      }
      options.onProgress?.({ ...progress });
    };
    const none = new Int32Array(0);
    for await (const { ids, offsets, texts } of readDocumentTexts(options.input)) {
      let row = 0;
      // written by the interrupted run: the writer checks the id and keeps the shard's tokens
      for (; row < ids.length && progress.skipped < kept.documents; row++) {
        progress.skipped++;
        progress.docs++;
        progress.bytes += offsets[row + 1]! - offsets[row]!;
        if (progress.skipped === kept.documents) {
          progress.tokens = kept.tokens;
          options.onProgress?.({ ...progress });
        }
        yield { id: ids[row]!, ids: none };
      }
      while (row < ids.length) {
        signal?.throwIfAborted();
        let end = row + 1;
        while (end < ids.length && offsets[end]! - offsets[row]! < batchChars) end++;
        // The unit's offsets rebased to its first text (the batch's offsets stay here for progress).
        const unitOffsets = offsets.slice(row, end + 1);
        for (let i = 0; i < unitOffsets.length; i++) unitOffsets[i] = unitOffsets[i]! - offsets[row]!;
        const unit: TextsUnit = { offsets: unitOffsets, texts: texts.subarray(offsets[row]!, offsets[end]!) };
        inFlight.push({ ids: ids.slice(row, end), offsets: offsets.subarray(row, end + 1), result: run(unit) });
        // a rejected unit is awaited (and rethrown) when its turn comes; keep Node from flagging it earlier
        inFlight[inFlight.length - 1]!.result.catch(() => undefined);
        row = end;
        while (inFlight.length >= maxInFlight) yield* drainOne();
      }
    }
    while (inFlight.length > 0) yield* drainOne();
  }

  try {
    return await writeTokenizedDocuments(tokenized(), {
      outDir: options.outDir,
      vocabSize: tokenizer.vocabSize,
      ...(options.resume !== undefined ? { resume: options.resume } : {}),
      onResume: (k) => (kept = k),
      ...(options.maxShardTokens !== undefined ? { maxShardTokens: options.maxShardTokens } : {}),
      // no worker count or paths of this machine: the manifest, like the shards, must not depend on them
      settings: {
        tool: '@pretext/tokenizers tokenizeShards',
        tokenizer: { kind: tokenizer.kind, vocabSize: tokenizer.vocabSize, special: tokenizer.special },
        sentenceRule: SENTENCE_RULE,
      },
    });
  } finally {
    await pool?.close();
  }
}

/**
 * Text each worker should get at least: a fresh worker spends ~0.3–0.8 s of CPU before its encoder runs at full
 * speed (V8 compiles the hot loops again in every isolate), about what tokenizing 5–10 MB in this thread costs;
 * a worker pays off when its share is several times that (bench/tokenize-shards.ts).
 */
const BYTES_PER_WORKER = 32e6;

/**
 * The worker count `tokenizeShards` uses when none is given: one per 32 MB of text (`textBytes`; unknown counts
 * as large), at most one per core and 8, and 0 (tokenize in this thread) when that comes to fewer than two: the
 * main thread only reads bytes and writes tokens, and one worker runs no faster than this thread. Measurements:
 * README, "tokenizeShards by worker count".
 */
export function defaultWorkers(textBytes?: number, cores = availableParallelism()): number {
  const byInput = textBytes === undefined ? Number.POSITIVE_INFINITY : Math.floor(textBytes / BYTES_PER_WORKER);
  const n = Math.min(8, cores, byInput);
  return n >= 2 ? n : 0;
}

/**
 * The encoding tables of a tokenizer, built once and handed to every worker thread (typed arrays, not a
 * tokenizer.json each worker would parse again). A tokenizer of another class is compiled through its Hugging
 * Face form.
 */
export function compileTokenizer(tokenizer: Tokenizer): CompiledTokenizer {
  if (tokenizer instanceof BpeTokenizer || tokenizer instanceof WordPieceTokenizer) return tokenizer.compile();
  const again = tokenizerFromJSON(tokenizer.toJSON());
  if (again instanceof BpeTokenizer || again instanceof WordPieceTokenizer) return again.compile();
  throw new ConfigError('tokenizer', tokenizer.kind, 'a BPE or WordPiece tokenizer');
}

/** The worker failed while tokenizing. */
export class TokenizeWorkerError extends PretextError {
  readonly code = 'TokenizeWorker';
  constructor(readonly reason: string) {
    super(`tokenizer worker failed: ${reason}; rerun with --workers 0 to see the error in this thread`);
  }
}

/** Worker threads that each hold an encoder; tasks go to whichever is free, results come back by promise. */
class Pool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { unit: TextsUnit; resolve: (r: TokenizedBatch) => void; reject: (e: unknown) => void }[] = [];
  private readonly busy = new Map<Worker, { resolve: (r: TokenizedBatch) => void; reject: (e: unknown) => void }>();
  private failed: Error | null = null;
  private closing = false;

  /** Starts workers as work arrives, up to `n`: a small input does not pay for threads it cannot use. */
  constructor(private readonly n: number, private readonly tables: CompiledTokenizer) {}

  private spawn(): void {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    // workerData is cloned: each worker gets its own copy of the tables (a few MB, about a millisecond)
    const w = startWorker(new URL(`./tokenize-worker${ext}`, import.meta.url), { workerData: { tables: this.tables } });
    w.on('message', (msg: WorkerReply) => {
      const task = this.busy.get(w);
      this.busy.delete(w);
      if (msg.type === 'result') task?.resolve(msg.batch);
      else task?.reject(new TokenizeWorkerError(msg.message));
      this.idle.push(w);
      this.pump();
    });
    w.on('error', (error) => this.fail(error));
    w.on('exit', (code) => {
      if (code !== 0 && !this.closing) this.fail(new TokenizeWorkerError(`a worker exited with code ${code}`));
    });
    this.workers.push(w);
    this.idle.push(w);
  }

  private fail(error: Error): void {
    this.failed ??= error instanceof PretextError ? error : new TokenizeWorkerError(error.message);
    for (const t of this.busy.values()) t.reject(this.failed);
    this.busy.clear();
    for (const t of this.queue.splice(0)) t.reject(this.failed);
  }

  run(unit: TextsUnit): Promise<TokenizedBatch> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ unit, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length === 0 && this.queue.length > 0 && this.workers.length < this.n) this.spawn();
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const task = this.queue.shift()!;
      this.busy.set(w, task);
      // The texts are a view into the record batch: copied so the copy's buffer can be transferred, not cloned.
      const unit: TextsUnit = { offsets: task.unit.offsets, texts: new Uint8Array(task.unit.texts) };
      w.postMessage(unit, [unit.offsets.buffer, unit.texts.buffer] as ArrayBuffer[]);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

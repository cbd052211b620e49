import { parentPort, workerData } from 'node:worker_threads';
import { encoderFromCompiled, type CompiledTokenizer } from './compiled.js';
import { decodeTexts, tokenizeBatch, type TextsUnit, type TokenizedBatch } from './tokenize-batch.js';

// A tokenization worker. It gets the tokenizer's compiled tables in workerData (typed arrays built once by the
// main thread: no JSON to parse here), then units of texts as UTF-8 bytes (decoded here, not by the reading thread); it answers with flat typed arrays whose buffers
// are transferred, not copied.
const encoder = encoderFromCompiled((workerData as { tables: CompiledTokenizer }).tables);

export type WorkerReply = { type: 'result'; batch: TokenizedBatch } | { type: 'error'; message: string };

parentPort!.on('message', (unit: TextsUnit) => {
  try {
    const r = tokenizeBatch(encoder, decodeTexts(unit));
    const reply: WorkerReply = { type: 'result', batch: r };
    parentPort!.postMessage(reply, [r.lengths.buffer, r.ids.buffer, r.wordStarts.buffer, r.sentenceCounts.buffer, r.sentenceStarts.buffer] as ArrayBuffer[]);
  } catch (error) {
    parentPort!.postMessage({ type: 'error', message: (error as Error).message } satisfies WorkerReply);
  }
});

import { parentPort } from 'node:worker_threads';
import { tokenizerFromJSON } from './load.js';
import { tokenizeBatch } from './tokenize-batch.js';
import type { Tokenizer } from './types.js';

// A tokenization worker: gets the tokenizer's JSON once, then batches of texts; answers with flat typed arrays.
let tokenizer: Tokenizer | undefined;
parentPort!.on('message', (msg: { type: 'init'; json: unknown } | { type: 'batch'; texts: string[] }) => {
  try {
    if (msg.type === 'init') {
      tokenizer = tokenizerFromJSON(msg.json);
      return;
    }
    const r = tokenizeBatch(tokenizer!, msg.texts);
    parentPort!.postMessage({ type: 'result', batch: r }, [
      r.lengths.buffer,
      r.ids.buffer,
      r.wordStarts.buffer,
      r.sentenceCounts.buffer,
      r.sentenceStarts.buffer,
    ] as ArrayBuffer[]);
  } catch (error) {
    parentPort!.postMessage({ type: 'error', message: (error as Error).message });
  }
});

import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BERT_JSON, books, englishTexts, GPT2_JSON, wikipedia } from '../test/corpora.js';
import { compileTokenizer, encoderFromCompiled, loadTokenizer, tokenizerFromJSON, trainBpe, type CompiledTokenizer, type Tokenizer } from './index.js';

/** The tables as a worker receives them: posted through a message port (structured clone). */
function posted(tables: CompiledTokenizer): CompiledTokenizer {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(tables);
  const got = receiveMessageOnPort(port2)!.message as CompiledTokenizer;
  port1.close();
  return got;
}

function expectSameEncoding(tok: Tokenizer, texts: string[]) {
  const enc = encoderFromCompiled(posted(compileTokenizer(tok)));
  for (const text of texts) {
    const a = tok.encodeWithOffsets(text);
    const b = enc.encodeWithOffsets(text);
    expect(Buffer.from(b.ids.buffer).equals(Buffer.from(a.ids.buffer))).toBe(true);
    expect(Buffer.from(b.starts.buffer).equals(Buffer.from(a.starts.buffer))).toBe(true);
    expect(Buffer.from(b.ends.buffer).equals(Buffer.from(a.ends.buffer))).toBe(true);
    expect(Buffer.from(b.wordStarts).equals(Buffer.from(a.wordStarts))).toBe(true);
  }
}

// real text with every script the corpora hold (English, Japanese, Vietnamese and Latgalian wikitext)
const texts = () => [...books().map((b) => b.text.slice(0, 100_000)), ...wikipedia().map((w) => w.text.slice(0, 100_000)), '<|endoftext|>[CLS] a [MASK]'];

describe('compiled tables (what worker threads get)', () => {
  it('GPT-2: an encoder from the posted tables gives the tokenizer’s ids, offsets and word starts', async () => {
    const gpt2 = await loadTokenizer(GPT2_JSON());
    const tables = compileTokenizer(gpt2);
    expect(tables.kind === 'bpe' && tables.merges.left).toBeInstanceOf(Int32Array);
    expectSameEncoding(gpt2, texts());
  });

  it('BERT WordPiece: the same from posted tables', async () => {
    expectSameEncoding(await loadTokenizer(BERT_JSON()), texts());
  });

  it('a trained cl100k-pattern BPE with ignore_merges: the same from posted tables', async () => {
    const trained = await trainBpe(englishTexts(10), { vocabSize: 2000, pattern: 'cl100k' });
    const json = trained.toJSON() as { model: Record<string, unknown> };
    json.model.ignore_merges = true;
    expectSameEncoding(tokenizerFromJSON(json), [...englishTexts(12).slice(10), books()[3]!.text.slice(0, 50_000)]);
  });
});

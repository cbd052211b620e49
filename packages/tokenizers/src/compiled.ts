import { BpeEncoder, type BpeTables } from './bpe-encoder.js';
import { WordPieceEncoder, type WordPieceTables } from './wordpiece-encoder.js';

/** A tokenizer's encoding tables (`BpeTokenizer.compile()`, `WordPieceTokenizer.compile()`): cheap to send to a worker. */
export type CompiledTokenizer = BpeTables | WordPieceTables;

/** An encoder built from compiled tables (a worker's tokenizer: encoding only, no decoding or JSON). */
export function encoderFromCompiled(tables: CompiledTokenizer): BpeEncoder | WordPieceEncoder {
  return tables.kind === 'bpe' ? new BpeEncoder(tables) : new WordPieceEncoder(tables);
}

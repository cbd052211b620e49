export type { Tokenizer, EncodingWithOffsets, PairEncoding, DecodeOptions, AddedToken } from './types.js';
export { BpeTokenizer, type BpeSpec } from './bpe.js';
export { WordPieceTokenizer, type WordPieceSpec } from './wordpiece.js';
export { loadTokenizer, tokenizerFromJSON, fromVocabAndMerges } from './load.js';
export { trainBpe, trainWordPiece, type TrainBpeOptions, type TrainWordPieceOptions, type TrainProgress } from './train.js';
export { GPT2_PATTERN, CL100K_PATTERN, splitGpt2, regexPreTokenizer, translatePattern, Spans, type PreTokenizer } from './pretokenize.js';
export { BertNormalizer, bertPreTokenize, type BertNormalizerOptions } from './normalize.js';
export { BYTE_TO_CHAR, tokenToBytes, bytesToToken } from './bytelevel.js';
export { detectSpecialTokens, IntBuffer } from './util.js';

import { Field, Int32, List, RecordBatch, Schema, Struct, Uint16, Uint32, Uint8, Utf8, makeData, type Data, type Vector } from 'apache-arrow';
import { ConfigError, type TokenizedDocument } from '@pretext/core';
import { ListBuilder, Utf8Builder } from './columns.js';
import type { Manifest, SchemaField } from './manifest.js';
import { readShardBatches } from './reader.js';
import { ShardSetWriter } from './writer.js';

export interface WriteTokenizedDocumentsOptions {
  outDir: string;
  /** Size of the tokenizer's vocabulary: ids are stored as UInt16 when it is at most 65536, else UInt32. */
  vocabSize: number;
  settings?: Record<string, unknown>;
  /** Recorded in the manifest's `stats` with `documents` and `tokens`; read after the last document. */
  stats?: Record<string, unknown>;
  /** A shard is closed once it holds this many tokens. Default 32 Mi (64 MiB of UInt16 ids). */
  maxShardTokens?: number;
  /** A record batch is closed at this many tokens. Default 1 Mi. */
  maxBatchTokens?: number;
  /** A record batch is closed at this many rows. Default 65536. */
  maxBatchRows?: number;
  onProgress?: (p: { rows: number; tokens: number; shards: number }) => void;
  /**
   * Continue an interrupted run (see `writeDocuments`): finished shards are kept and their documents skipped
   * (checked by id only: their `ids` may be empty, the token count comes from the kept shards).
   */
  resume?: boolean;
  /**
   * Called once, before the first document is read, with what the kept shards of a resumed run hold (zeros
   * without resume): a producer can then pass the first `documents` documents with empty `ids` instead of
   * computing them again.
   */
  onResume?: (kept: { documents: number; tokens: number }) => void;
}

export function tokenSchema(vocabSize: number): Schema {
  const idType = vocabSize <= 65536 ? new Uint16() : new Uint32();
  return new Schema(
    [
      new Field('id', new Utf8(), false),
      new Field('input_ids', ListBuilder.type(idType), false),
      new Field('sentence_starts', ListBuilder.type(new Int32()), true),
      new Field('word_starts', ListBuilder.type(new Uint8()), true),
    ],
    new Map([['pretext.kind', 'tokens'], ['pretext.vocab_size', String(vocabSize)]]),
  );
}

function positiveInt(key: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0 && value <= max)) throw new ConfigError(key, value, `an integer in [1, ${max}]`);
  return value;
}

/**
 * Writes tokenized documents to Arrow IPC shards plus `manifest.json` (last, atomically). Columns: `id` Utf8,
 * `input_ids` List<UInt16|UInt32>, `sentence_starts` List<Int32> (null: one sentence), `word_starts` List<UInt8>
 * (null: not recorded). The manifest's `stats.tokens` is the total token count.
 */
export async function writeTokenizedDocuments(
  docs: AsyncIterable<TokenizedDocument> | Iterable<TokenizedDocument>,
  options: WriteTokenizedDocumentsOptions,
): Promise<Manifest> {
  const vocabSize = positiveInt('vocabSize', options.vocabSize ?? 0, 0, 2 ** 32);
  const schema = tokenSchema(vocabSize);
  const maxShardTokens = positiveInt('maxShardTokens', options.maxShardTokens, 32 * 1024 * 1024);
  const maxBatchTokens = Math.min(maxShardTokens, positiveInt('maxBatchTokens', options.maxBatchTokens, 1024 * 1024));
  const maxBatchRows = positiveInt('maxBatchRows', options.maxBatchRows, 65536);
  const ids = new Utf8Builder();
  const inputIds = new ListBuilder(vocabSize <= 65536 ? new Uint16() : new Uint32());
  const sentences = new ListBuilder(new Int32());
  const words = new ListBuilder(new Uint8());
  const out = new ShardSetWriter(options.outDir, schema);
  let rows = 0;
  let tokens = 0;
  let shardTokens = 0;

  const flush = async () => {
    if (ids.rows === 0) return;
    const children: Data[] = [ids.finish(), inputIds.finish(), sentences.finish(), words.finish()];
    await out.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: ids.rows, nullCount: 0, children })));
    ids.reset();
    inputIds.reset();
    sentences.reset();
    words.reset();
    options.onProgress?.({ rows, tokens, shards: out.shardCount + 1 });
  };

  const resume = await out.init(options.resume);
  // the kept shards' tokens are counted from the shards, so skipped documents need no ids
  tokens = resume.tokens;
  try {
    options.onResume?.({ documents: resume.rows, tokens: resume.tokens });
    for await (const doc of docs) {
      if (typeof doc.id !== 'string' || doc.id === '') throw new ConfigError('document.id', doc.id, 'a non-empty string');
      if (resume.skip(doc.id)) {
        rows++;
        continue;
      }
      const tokenIds = doc.ids;
      // One pass for the range check; the copy into the column converts to UInt16/UInt32.
      for (let i = 0; i < tokenIds.length; i++) {
        const t = tokenIds[i]!;
        if (!(t >= 0 && t < vocabSize)) throw new ConfigError(`input_ids[${i}] of document ${doc.id}`, t, `a token id in [0, ${vocabSize}) (vocabSize)`);
      }
      if (doc.wordStarts && doc.wordStarts.length !== tokenIds.length) {
        throw new ConfigError(`wordStarts of document ${doc.id}`, doc.wordStarts.length, `one flag per token (${tokenIds.length})`);
      }
      if (doc.sentenceStarts) {
        let prev = -1;
        for (const s of doc.sentenceStarts) {
          if (!(s > prev && s < Math.max(1, tokenIds.length))) throw new ConfigError(`sentenceStarts of document ${doc.id}`, Array.from(doc.sentenceStarts), 'ascending token indexes within the document');
          prev = s;
        }
      }
      ids.push(doc.id);
      inputIds.push(tokenIds);
      sentences.push(doc.sentenceStarts ?? null);
      words.push(doc.wordStarts ?? null);
      rows++;
      tokens += tokenIds.length;
      shardTokens += tokenIds.length;
      if (shardTokens >= maxShardTokens) {
        await flush();
        await out.roll();
        shardTokens = 0;
      } else if (inputIds.valueCount >= maxBatchTokens || ids.rows >= maxBatchRows) {
        await flush();
      }
    }
    resume.finish();
    await flush();
    return await out.finish('tokens', { ...options.settings, vocabSize }, { ...options.stats, documents: rows, tokens });
  } catch (error) {
    await out.abort();
    throw error;
  }
}

export function checkTokenSchema(fields: readonly SchemaField[]): string | null {
  const expected = 'id:Utf8, input_ids:List<Uint16>|List<Uint32>, sentence_starts:List<Int32>?, word_starts:List<Uint8>?';
  const [id, input, sent, word] = fields;
  const ok =
    fields.length === 4 &&
    id?.name === 'id' && id.type === 'Utf8' &&
    input?.name === 'input_ids' && (input.type === 'List<Uint16>' || input.type === 'List<Uint32>') &&
    sent?.name === 'sentence_starts' && sent.type === 'List<Int32>' &&
    word?.name === 'word_starts' && word.type === 'List<Uint8>';
  return ok ? null : expected;
}

type ListData = Data<List> & { valueOffsets: Int32Array; children: Data[] };

/** Copies row `row` of a List column into a fresh typed array (copies, so a kept document does not pin the batch). */
function listRow<T extends Int32Array | Uint8Array>(vector: Vector, row: number, Out: { new (n: number): T }): T | undefined {
  if (!vector.isValid(row)) return undefined;
  const data = vector.data[0] as ListData;
  const child = data.children[0]!;
  if (vector.data.length === 1 && data.offset === 0 && child.offset === 0) {
    const start = data.valueOffsets[row]!;
    const end = data.valueOffsets[row + 1]!;
    const out = new Out(end - start);
    out.set((child.values as Int32Array).subarray(start, end));
    return out;
  }
  const values = (vector.get(row) as Vector).toArray() as ArrayLike<number>;
  const out = new Out(values.length);
  out.set(values);
  return out;
}

/** Streams tokenized documents in order, one record batch in memory at a time; ids come back as Int32Array. */
export async function* readTokenizedDocuments(dir: string, options: { verify?: boolean } = {}): AsyncIterable<TokenizedDocument> {
  for await (const { batch } of readShardBatches(dir, 'tokens', checkTokenSchema, options.verify)) {
    const id = batch.getChildAt(0) as Vector<Utf8>;
    const input = batch.getChildAt(1)!;
    const sent = batch.getChildAt(2)!;
    const word = batch.getChildAt(3)!;
    for (let row = 0; row < batch.numRows; row++) {
      const sentenceStarts = listRow(sent, row, Int32Array);
      const wordStarts = listRow(word, row, Uint8Array);
      yield {
        id: id.get(row)!,
        ids: listRow(input, row, Int32Array)!,
        ...(sentenceStarts ? { sentenceStarts } : {}),
        ...(wordStarts ? { wordStarts } : {}),
      };
    }
  }
}

/** The vocabulary size a token manifest was written with. */
export function vocabSizeOf(manifest: Manifest): number | undefined {
  const v = manifest.settings.vocabSize;
  return typeof v === 'number' ? v : undefined;
}

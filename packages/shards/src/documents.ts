import { Field, Float64, Int64, RecordBatch, Schema, Struct, Utf8, makeData, type Data, type Vector } from 'apache-arrow';
import { ConfigError, type Document } from '@pretext/core';
import { Float64Builder, Int64Builder, Utf8Builder } from './columns.js';
import type { Manifest, SchemaField } from './manifest.js';
import { readShardBatches } from './reader.js';
import { ShardSetWriter } from './writer.js';

/** A metadata column of document shards: nullable Utf8, Int64 or Float64. */
export type MetaField = { name: string; type: 'utf8' | 'int64' | 'float64' };

export interface WriteDocumentsOptions {
  /** Folder for `part-NNNNN.arrow` and `manifest.json`; created if missing; earlier shards and manifest there are replaced. */
  outDir: string;
  /** One nullable column per field, after `id`, `text`, `source`. Meta keys not listed here are not stored. */
  metaFields?: MetaField[];
  /** Recorded in the manifest. Read when the manifest is written (after the last document), so it may be filled in while streaming. */
  settings?: Record<string, unknown>;
  /** Recorded in the manifest's `stats` together with `documents` and `textBytes`; read at the end, like `settings`. */
  stats?: Record<string, unknown>;
  /** A shard is closed once it holds this many bytes of UTF-8 text. Default 64 MiB. */
  maxShardBytes?: number;
  /** A record batch (the unit a reader holds in memory) is closed at this many bytes of text. Default 4 MiB. */
  maxBatchBytes?: number;
  /** A record batch is closed at this many rows. Default 65536. */
  maxBatchRows?: number;
  onProgress?: (p: { rows: number; bytes: number; shards: number }) => void;
  /**
   * Continue an interrupted run: keep its finished shards, skip the documents they hold (their ids are checked
   * against the input) and write the rest. Needs the same input and options; the result is byte-identical to an
   * uninterrupted run.
   */
  resume?: boolean;
}

const ARROW_TYPES = { utf8: () => new Utf8(), int64: () => new Int64(), float64: () => new Float64() } as const;
const BASE_COLUMNS = ['id', 'text', 'source'] as const;

export function documentSchema(metaFields: readonly MetaField[] = []): Schema {
  const seen = new Set<string>(BASE_COLUMNS);
  for (const f of metaFields) {
    if (!(f.type in ARROW_TYPES)) throw new ConfigError(`metaFields.${f.name}.type`, f.type, "'utf8', 'int64' or 'float64'");
    if (seen.has(f.name)) throw new ConfigError('metaFields', f.name, 'unique names other than id, text and source');
    seen.add(f.name);
  }
  return new Schema(
    [
      new Field('id', new Utf8(), false),
      new Field('text', new Utf8(), false),
      new Field('source', new Utf8(), false),
      ...metaFields.map((f) => new Field(f.name, ARROW_TYPES[f.type](), true)),
    ],
    new Map([['pretext.kind', 'documents']]),
  );
}

function positive(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(key, value, 'a positive number');
  return value;
}

type MetaBuilder = { field: MetaField; push: (v: unknown, doc: Document) => void; builder: Utf8Builder | Int64Builder | Float64Builder };

function metaBuilder(field: MetaField): MetaBuilder {
  if (field.type === 'utf8') {
    const builder = new Utf8Builder();
    return { field, builder, push: (v) => builder.push(v === null || v === undefined ? null : String(v)) };
  }
  const builder = field.type === 'int64' ? new Int64Builder() : new Float64Builder();
  return {
    field,
    builder,
    push: (v, doc) => {
      if (v === null || v === undefined) return builder.push(null);
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n) || (field.type === 'int64' && !Number.isSafeInteger(n))) {
        throw new ConfigError(`meta.${field.name} of document ${doc.id}`, v, field.type === 'int64' ? 'an integer' : 'a finite number');
      }
      builder.push(n);
    },
  };
}

/**
 * Writes documents to Arrow IPC shards plus `manifest.json` (written last, atomically). Same input, same bytes.
 * Columns: `id`, `text`, `source` (Utf8, not null), then one nullable column per meta field.
 */
export async function writeDocuments(docs: AsyncIterable<Document> | Iterable<Document>, options: WriteDocumentsOptions): Promise<Manifest> {
  const metaFields = options.metaFields ?? [];
  const schema = documentSchema(metaFields);
  const maxShardBytes = positive('maxShardBytes', options.maxShardBytes, 64 * 1024 * 1024);
  const maxBatchBytes = Math.min(maxShardBytes, positive('maxBatchBytes', options.maxBatchBytes, 4 * 1024 * 1024));
  const maxBatchRows = positive('maxBatchRows', options.maxBatchRows, 65536);
  const ids = new Utf8Builder();
  const texts = new Utf8Builder();
  const sources = new Utf8Builder();
  const metas = metaFields.map(metaBuilder);
  const out = new ShardSetWriter(options.outDir, schema);
  let rows = 0;
  let textBytes = 0;
  let batchBytes = 0;
  let shardBytes = 0;

  const flush = async () => {
    if (ids.rows === 0) return;
    const children: Data[] = [ids.finish(), texts.finish(), sources.finish(), ...metas.map((m) => m.builder.finish())];
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: ids.rows, nullCount: 0, children }));
    await out.write(batch);
    for (const b of [ids, texts, sources, ...metas.map((m) => m.builder)]) b.reset();
    batchBytes = 0;
    options.onProgress?.({ rows, bytes: textBytes, shards: out.shardCount + 1 });
  };

  const resume = await out.init(options.resume);
  try {
    for await (const doc of docs) {
      if (typeof doc.id !== 'string' || doc.id === '') throw new ConfigError('document.id', doc.id, 'a non-empty string');
      if (typeof doc.text !== 'string') throw new ConfigError(`text of document ${doc.id}`, typeof doc.text, 'a string');
      if (typeof doc.source !== 'string') throw new ConfigError(`source of document ${doc.id}`, doc.source, 'a string');
      if (resume.skip(doc.id)) {
        rows++;
        textBytes += Buffer.byteLength(doc.text);
        continue;
      }
      ids.push(doc.id);
      const n = texts.push(doc.text);
      sources.push(doc.source);
      for (const m of metas) m.push(doc.meta?.[m.field.name], doc);
      rows++;
      textBytes += n;
      batchBytes += n;
      shardBytes += n;
      if (shardBytes >= maxShardBytes) {
        await flush();
        await out.roll();
        shardBytes = 0;
      } else if (batchBytes >= maxBatchBytes || ids.rows >= maxBatchRows) {
        await flush();
      }
    }
    resume.finish();
    await flush();
    const stats = { ...options.stats, documents: rows, textBytes };
    return await out.finish('documents', { ...options.settings }, stats);
  } catch (error) {
    await out.abort();
    throw error;
  }
}

/** Checks that a schema is a document schema: id, text, source (Utf8), then nullable Utf8/Int64/Float64 columns. */
export function checkDocumentSchema(fields: readonly SchemaField[]): string | null {
  const base = BASE_COLUMNS.map((name) => `${name}:Utf8`);
  const actual = fields.slice(0, 3).map((f) => `${f.name}:${f.type}`);
  if (actual.join(', ') !== base.join(', ')) return `${base.join(', ')} first`;
  for (const f of fields.slice(3)) {
    if (!['Utf8', 'Int64', 'Float64'].includes(f.type)) return `meta columns of type Utf8, Int64 or Float64 (${f.name} is ${f.type})`;
  }
  return null;
}

/** The meta fields recorded in a document manifest's schema. */
export function metaFieldsOf(manifest: Manifest): MetaField[] {
  return manifest.schema.slice(3).map((f) => ({ name: f.name, type: f.type.toLowerCase() as MetaField['type'] }));
}

/**
 * Streams the documents of a shard folder in order, one record batch in memory at a time. Null meta values are
 * left out of `meta`; `meta` is absent when the shards have no meta columns. `verify` checks sha256 first.
 */
export async function* readDocuments(dir: string, options: { verify?: boolean } = {}): AsyncIterable<Document> {
  for await (const { batch } of readShardBatches(dir, 'documents', checkDocumentSchema, options.verify)) {
    const id = batch.getChildAt(0) as Vector<Utf8>;
    const text = batch.getChildAt(1) as Vector<Utf8>;
    const source = batch.getChildAt(2) as Vector<Utf8>;
    const metas = batch.schema.fields.slice(3).map((f, i) => ({ name: f.name, vector: batch.getChildAt(i + 3)!, int: f.type instanceof Int64 || String(f.type) === 'Int64' }));
    for (let row = 0; row < batch.numRows; row++) {
      const doc: { id: string; text: string; source: string; meta?: Record<string, string | number> } = {
        id: id.get(row)!,
        text: text.get(row)!,
        source: source.get(row)!,
      };
      if (metas.length > 0) {
        const meta: Record<string, string | number> = {};
        for (const m of metas) {
          const v = m.vector.get(row) as string | number | bigint | null;
          if (v !== null && v !== undefined) meta[m.name] = typeof v === 'bigint' ? Number(v) : v;
        }
        doc.meta = meta;
      }
      yield doc;
    }
  }
}

/**
 * The ids and texts of one record batch of document shards, as columns: `texts` is the UTF-8 bytes of the batch's
 * texts back to back and document `i` is `texts.subarray(offsets[i], offsets[i + 1])`. No per-document strings are
 * made, so a consumer can hand the bytes to a worker thread and decode them there.
 */
export interface DocumentTexts {
  readonly ids: readonly string[];
  readonly offsets: Int32Array;
  readonly texts: Uint8Array;
}

/** Streams the id and text columns of document shards batch by batch (the other columns are not decoded). */
export async function* readDocumentTexts(dir: string, options: { verify?: boolean } = {}): AsyncIterable<DocumentTexts> {
  for await (const { batch } of readShardBatches(dir, 'documents', checkDocumentSchema, options.verify)) {
    const id = batch.getChildAt(0) as Vector<Utf8>;
    const ids: string[] = new Array<string>(batch.numRows);
    for (let row = 0; row < batch.numRows; row++) ids[row] = id.get(row)!;
    const offsets = new Int32Array(batch.numRows + 1);
    const parts: Uint8Array[] = [];
    let row = 0;
    let total = 0;
    // One Data chunk per record batch as written here; other writers may split a column, so walk every chunk.
    for (const data of (batch.getChildAt(1) as Vector<Utf8>).data) {
      const o = data.valueOffsets;
      const first = o[data.offset]!;
      for (let i = 0; i < data.length; i++) offsets[row + i + 1] = total + o[data.offset + i + 1]! - first;
      const last = o[data.offset + data.length]!;
      parts.push(data.values.subarray(first, last));
      total += last - first;
      row += data.length;
    }
    const texts = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    yield { ids, offsets, texts };
  }
}

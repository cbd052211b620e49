import { open } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { ManifestError, ShardIntegrityError, ShardSchemaError } from '@pretext/core';
import { checkShardSizes, MANIFEST_FILE, readManifest, verifyShards, type Manifest, type SchemaField } from './manifest.js';
import { schemaFields } from './writer.js';

export function formatSchema(fields: readonly SchemaField[]): string {
  return fields.map((f) => `${f.name}:${f.type}${f.nullable ? '?' : ''}`).join(', ');
}

function sameSchema(a: readonly SchemaField[], b: readonly SchemaField[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.type === b[i]!.type && f.nullable === b[i]!.nullable);
}

export interface ShardBatch {
  readonly file: string;
  readonly batch: RecordBatch;
}

/**
 * Streams the record batches of every shard in manifest order, one batch in memory at a time (Arrow's file reader
 * reads each batch at its footer offset). Checks the manifest's kind and schema (`check` validates the columns the
 * caller needs), each file's schema against the manifest, sizes (always) or sha256 (`verify`), and row counts.
 */
export async function* readShardBatches(
  dir: string,
  kind: Manifest['kind'],
  check: (schema: readonly SchemaField[]) => string | null,
  verify = false,
): AsyncGenerator<ShardBatch, void, undefined> {
  const manifest = await readManifest(dir);
  const manifestFile = path.join(dir, MANIFEST_FILE);
  if (manifest.kind !== kind) throw new ManifestError(manifestFile, `holds ${manifest.kind} shards but ${kind} shards were expected`);
  const problem = check(manifest.schema);
  if (problem) throw new ShardSchemaError(manifestFile, problem, formatSchema(manifest.schema));
  if (verify) await verifyShards(dir);
  else await checkShardSizes(dir, manifest);
  for (const shard of manifest.shards) {
    const file = path.join(dir, shard.file);
    const fh = await open(file, 'r');
    try {
      let reader;
      try {
        reader = await RecordBatchReader.from(fh);
        await reader.open();
      } catch (error) {
        throw new ShardIntegrityError(file, `cannot be read as an Arrow IPC file (${(error as Error).message})`);
      }
      const actual = schemaFields(reader.schema);
      if (!sameSchema(actual, manifest.schema)) throw new ShardSchemaError(file, formatSchema(manifest.schema), formatSchema(actual));
      let rows = 0;
      const batches = reader[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<RecordBatch>;
        try {
          next = await batches.next();
        } catch (error) {
          throw new ShardIntegrityError(file, `has a damaged record batch (${(error as Error).message})`);
        }
        if (next.done) break;
        rows += next.value.numRows;
        yield { file, batch: next.value };
      }
      if (rows !== shard.rows) throw new ShardIntegrityError(file, `holds ${rows} rows but the manifest records ${shard.rows}`);
    } finally {
      await fh.close();
    }
  }
}

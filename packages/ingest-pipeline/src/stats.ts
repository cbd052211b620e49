import type { PretextError } from '@pretext/core';
import { errorFile, errorPosition, type SerializedError } from './errors.js';

export const MAX_ERRORS_PER_FILE = 20;

/** Counts of a run that do not depend on the number of workers or on time: they go into the manifest. */
export interface RunCounters {
  /** Documents the sources gave. */
  read: number;
  /** Documents written. */
  kept: number;
  /** Dropped documents by reason: filter reasons (`too-short`, `language`, `gopher-quality:…`, `gopher-repetition:…`) and `duplicate-exact`, `duplicate-near`. */
  dropped: Record<string, number>;
  duplicates: { exact: number; near: number };
  /** Records or pages the sources skipped by reason (`redirect`, `namespace`, `not-html`, `warcinfo`, …). */
  skipped: Record<string, number>;
  /** Input bytes of the units read. */
  inputBytes: number;
  /** UTF-8 bytes of the text of every document read, and of the documents kept. */
  textBytesRead: number;
  textBytesKept: number;
  /** Bad input: how many errors, and per file the first few (file, position, message). */
  errors: { count: number; files: Array<{ file: string; count: number; errors: Array<{ code: string; position: number | string | null; message: string }> }> };
}

export function emptyCounters(): RunCounters {
  return { read: 0, kept: 0, dropped: {}, duplicates: { exact: 0, near: 0 }, skipped: {}, inputBytes: 0, textBytesRead: 0, textBytesKept: 0, errors: { count: 0, files: [] } };
}

export function addCount(target: Record<string, number>, key: string, n = 1): void {
  target[key] = (target[key] ?? 0) + n;
}

export function recordError(counters: RunCounters, error: SerializedError | PretextError): void {
  counters.errors.count++;
  const file = errorFile(error);
  let entry = counters.errors.files.find((f) => f.file === file);
  if (!entry) counters.errors.files.push((entry = { file, count: 0, errors: [] }));
  entry.count++;
  if (entry.errors.length < MAX_ERRORS_PER_FILE) {
    const code = 'fields' in error ? String(error.fields.code ?? error.className) : error.code;
    entry.errors.push({ code, position: errorPosition(error), message: error.message });
  }
}

/** Everything a run reports: the counters (also in the manifest's `stats`) plus time, speed and memory (only here and in `stats.json`). */
export interface IngestStats extends RunCounters {
  kind: string;
  /** Input files, work units in the whole run, work units this rank read. */
  files: number;
  units: number;
  unitsRead: number;
  rank: number;
  worldSize: number;
  workers: number;
  seconds: number;
  docsPerSecond: number;
  mbPerSecond: number;
  /** Peak resident set size of the main process (bytes) and the dedup tables' size. */
  memory: { peakRssBytes: number; dedupBytes: number };
  resumed: boolean;
}

/** Sorted keys, so the manifest's stats are the same bytes whatever order reasons were met in. */
export function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { EmptyInputError, InputNotFoundError, MalformedInputError, naturalOrder } from './util.js';

/** A labelled text classification set: parallel columns, labels as indices into `labelNames`. */
export interface LabelledDataset {
  /** Where it came from (a path or `spam-assassin`). */
  readonly source: string;
  readonly texts: readonly string[];
  /** Index into `labelNames` per text. */
  readonly labels: Int32Array;
  /** Class names in index order (sorted: numerically when every label is a number, else by string). */
  readonly labelNames: readonly string[];
  /** A stable id per text (file and line, file name, or the corpus's message id). */
  readonly ids: readonly string[];
}

interface Row {
  readonly text: string;
  readonly label: string;
  readonly id: string;
}

/**
 * Reads labelled text: a `.csv` file with a header row holding `text` and `label` columns, a `.jsonl` file of
 * `{"text": …, "label": …}` objects, or a folder with one subfolder per label whose files are the texts.
 * A bad row fails with a `MalformedInputError` naming the file and line.
 */
export async function readLabelled(source: string): Promise<LabelledDataset> {
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new InputNotFoundError(source);
  }
  let rows: Row[];
  if (info.isDirectory()) rows = await readFolder(source);
  else if (/\.csv$/i.test(source)) rows = parseCsvRows(await readFile(source, 'utf8'), source);
  else if (/\.jsonl?$/i.test(source)) rows = parseJsonlRows(await readFile(source, 'utf8'), source);
  else throw new EmptyInputError(source, 'not a .csv, .jsonl or folder of per-label folders');
  if (rows.length === 0) throw new EmptyInputError(source, 'no labelled rows');
  return fromRows(source, rows);
}

/** Builds a dataset from rows; labels are indexed in sorted order so the same data always gives the same indices. */
export function fromRows(source: string, rows: readonly Row[]): LabelledDataset {
  const names = [...new Set(rows.map((r) => r.label))];
  const numeric = names.every((n) => n.trim() !== '' && Number.isFinite(Number(n)));
  names.sort(numeric ? (a, b) => Number(a) - Number(b) : naturalOrder);
  if (names.length < 2) throw new EmptyInputError(source, `only one label (${JSON.stringify(names[0])}); classification needs at least two`);
  const index = new Map(names.map((n, i) => [n, i]));
  return {
    source,
    texts: rows.map((r) => r.text),
    labels: Int32Array.from(rows, (r) => index.get(r.label)!),
    labelNames: names,
    ids: rows.map((r) => r.id),
  };
}

function labelOf(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

export function parseCsvRows(content: string, file: string): Row[] {
  let records: { record: Record<string, unknown>; info: { lines: number } }[];
  try {
    records = parseCsv(content, { columns: true, bom: true, skip_empty_lines: true, info: true, relax_quotes: false, trim: false }) as never;
  } catch (error) {
    const e = error as { lines?: number; message?: string; code?: string };
    throw new MalformedInputError(file, `line ${e.lines ?? '?'}`, `CSV ${e.code ?? 'error'}: ${(e.message ?? '').split('\n')[0]!.replace(/^Invalid Record Length: /, '')}`);
  }
  const first = records[0];
  if (first && (!('text' in first.record) || !('label' in first.record))) {
    throw new MalformedInputError(file, 'line 1', `the header has columns ${JSON.stringify(Object.keys(first.record))} but needs "text" and "label"`);
  }
  return records.map(({ record, info }) => rowOf(record, file, info.lines, `${path.basename(file)}:${info.lines}`));
}

export function parseJsonlRows(content: string, file: string): Row[] {
  const rows: Row[] = [];
  const lines = content.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new MalformedInputError(file, `line ${i + 1}`, `invalid JSON (${(error as Error).message.split('\n')[0]})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new MalformedInputError(file, `line ${i + 1}`, 'expected an object with "text" and "label"');
    }
    rows.push(rowOf(value as Record<string, unknown>, file, i + 1, `${path.basename(file)}:${i + 1}`));
  });
  return rows;
}

function rowOf(record: Record<string, unknown>, file: string, line: number, id: string): Row {
  const text = record['text'];
  if (typeof text !== 'string' || text.trim() === '') {
    throw new MalformedInputError(file, `line ${line}`, `"text" must be a non-empty string, got ${JSON.stringify(text) ?? 'nothing'}`);
  }
  const label = labelOf(record['label']);
  if (label === null) throw new MalformedInputError(file, `line ${line}`, `"label" must be a non-empty string or a number, got ${JSON.stringify(record['label']) ?? 'nothing'}`);
  return { text, label, id };
}

async function readFolder(dir: string): Promise<Row[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(naturalOrder);
  if (entries.length === 0) throw new EmptyInputError(dir, 'no label folders (expected one subfolder per label holding text files)');
  const rows: Row[] = [];
  for (const label of entries) {
    const sub = path.join(dir, label);
    const files = (await readdir(sub, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort(naturalOrder);
    for (const name of files) {
      const file = path.join(sub, name);
      const bytes = await readFile(file);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new MalformedInputError(file, 'line 1', 'not valid UTF-8 text');
      }
      if (text.trim() === '') throw new MalformedInputError(file, 'line 1', 'empty text file');
      rows.push({ text, label, id: `${label}/${name}` });
    }
  }
  return rows;
}

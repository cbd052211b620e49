import { readFile } from 'node:fs/promises';
import { EmptyInputError, MalformedInputError, PretextError, type Document } from '@pretext/core';
import { scoreFields, type IngestKind, type ResolvedFilters } from './config.js';
import { serializeError, type SerializedError } from './errors.js';
import {
  gopherQualityScores,
  gopherQualityVerdict,
  gopherRepetitionScores,
  gopherRepetitionVerdict,
  lengthScores,
  lengthVerdict,
} from './filters.js';
import { identifyLanguageSync } from './lid.js';
import { DedupKeyer } from './keys.js';
import { MinHasher, type DedupOptions } from './minhash.js';
import { rankOf, REJECT_TEXT_CHARS, RejectSample, type Reject } from './rejects.js';
import { WordSpans } from './scan.js';

/** A piece of input one worker reads: a byte range of a file (a gzip member run, bz2 blocks, a book). */
export interface Unit {
  /** Position in the whole run's list of units; `ordinal % worldSize === rank` selects a rank's share. */
  ordinal: number;
  kind: IngestKind;
  /** Absolute path (or the package name for the @stdlib demo books). */
  file: string;
  /** What the `file` column holds: the path relative to the input folder or glob, or the file name. */
  relative: string;
  start: number;
  end: number;
  /** Index of the unit in its file's plan. */
  index: number;
  stdlib?: 'moby-dick' | 'sotu';
}

export interface UnitTask {
  unit: Unit;
  filters: ResolvedFilters;
  dedup: Required<DedupOptions>;
  strict: boolean;
  rejectsSample: number;
}

export interface UnitResult {
  ordinal: number;
  /** Documents the source gave (before filters). */
  read: number;
  /** Records or pages the source skipped, by reason (redirect, not-html, …). */
  skipped: Record<string, number>;
  /** Documents the filters dropped, by reason. */
  dropped: Record<string, number>;
  errors: SerializedError[];
  /** Set in strict mode: the error that stops the run. */
  fatal?: SerializedError;
  /** Documents that passed the filters, score columns in `meta`. */
  docs: Document[];
  /** Per document: 2 words of the exact-dedup key. */
  exact: Uint32Array;
  /** Per document: 2 × bands words of LSH band keys (zeros for texts with no words). */
  bands: Uint32Array;
  /** The unit's bottom-k sample of filter rejects. */
  rejects: Reject[];
  /** Text bytes of the documents the source gave. */
  textBytes: number;
}

function whereOf(doc: Document): string | null {
  const m = doc.meta ?? {};
  const v = m.url ?? m.title;
  return v === undefined || v === null ? null : String(v);
}

// Each source package is loaded by the first unit of its kind: a worker reading Common Crawl does not load the books
// reader (which brings Apache Arrow) or the Wikipedia reader (bz2 WebAssembly), about a second of start-up per worker.
const booksReader = () => import('@pretext/ingest-books');
const commonCrawlReader = () => import('@pretext/ingest-commoncrawl');
const wikipediaReader = () => import('@pretext/ingest-wikipedia');

async function* books(unit: Unit): AsyncGenerator<Document> {
  const { bookDocument, parseTextBook, readEpub, stdlibBooks } = await booksReader();
  if (unit.stdlib) {
    yield* stdlibBooks({ packages: [unit.stdlib] });
    return;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(unit.file);
  } catch (error) {
    throw new MalformedInputError(unit.file, 0, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (/\.epub$/i.test(unit.file)) {
    if (bytes.length === 0) throw new EmptyInputError(unit.file, 'the file is empty');
    const book = readEpub(bytes, unit.file);
    const doc = bookDocument(book.text, { title: book.title, author: book.author, language: book.language, file: unit.relative });
    if (doc.text === '') throw new EmptyInputError(unit.file, 'the EPUB holds no text');
    yield doc;
    return;
  }
  yield parseTextBook(bytes, unit.file, unit.relative);
}

type Meta = Record<string, string | number | null>;

/** Copies a filter's scores into a document's meta, whose properties already exist (see `metaOf`). */
function assignScores(meta: Meta, scores: object): void {
  for (const k in scores) meta[k] = (scores as Meta)[k]!;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));

/** Reads one unit, scores and filters its documents, and computes their dedup keys. */
export async function processUnit(task: UnitTask): Promise<UnitResult> {
  const { unit, filters } = task;
  const result: UnitResult = {
    ordinal: unit.ordinal,
    read: 0,
    skipped: {},
    dropped: {},
    errors: [],
    docs: [],
    exact: new Uint32Array(0),
    bands: new Uint32Array(0),
    rejects: [],
    textBytes: 0,
  };
  const hasher = task.dedup.near ? new MinHasher(task.dedup) : null;
  const keyer = new DedupKeyer(hasher);
  const needKeys = task.dedup.exact || task.dedup.near;
  const needWords = filters.gopherQuality !== null || filters.gopherRepetition !== null;
  // Each document's meta is a copy of one template holding every column (the source's, then the scores) and the
  // values are stored into it. V8 copies such an object in one step and keeps its properties fast; adding ~30
  // properties one by one (Object.assign, or a second spread) turned it into a dictionary: ~45 µs per document.
  let template: Meta | null = null;
  const metaOf = (raw: Meta): Meta => {
    template ??= Object.fromEntries([...Object.keys(raw), ...scoreFields(filters).map((f) => f.name)].map((k) => [k, null]));
    const meta = { ...template };
    for (const k in raw) meta[k] = raw[k]!;
    return meta;
  };
  const spans = new WordSpans();
  const exact: number[] = [];
  const bandParts: Uint32Array[] = [];
  const sample = new RejectSample(task.rejectsSample);
  const onSkip = (reason: string) => {
    result.skipped[reason] = (result.skipped[reason] ?? 0) + 1;
  };
  const onError = (e: PretextError) => {
    result.errors.push(serializeError(e));
  };
  const range = { file: unit.file, start: unit.start, end: unit.end, index: unit.index };
  const source: AsyncIterable<Document> =
    unit.kind === 'books'
      ? books(unit)
      : unit.kind === 'commoncrawl'
        ? (await commonCrawlReader()).readCommonCrawl(range, { onSkip, onError, strict: task.strict })
        : (await wikipediaReader()).readWikipedia(range, { onSkip, onError, strict: task.strict });

  /** A document between reading and the filters. */
  interface Pending {
    raw: Document;
    /** The words found for the length filter, kept for the Gopher filters (language identification runs between). */
    words: WordSpans | null;
    position: number;
    meta: Meta;
    reason: string | null;
    detail: string;
    language: string | null;
  }
  const drop = (p: Pending, reason: string, detail: string) => {
    p.reason = reason;
    p.detail = detail;
  };

  /**
   * The filters run stage by stage over a batch of documents rather than document by document: language
   * identification (WebAssembly and its ~1 MB model) then runs many times in a row instead of between gunzip, the
   * record parser and the JavaScript filters, which measured 15–50% less CPU time for reading plus identification on
   * WET. Every document still meets the filters in the same order, with the same result.
   */
  const runBatch = async (batch: Pending[]) => {
    if (filters.length) {
      const o = filters.length;
      for (const p of batch) {
        const s = lengthScores(p.raw.text, spans.scan(p.raw.text));
        p.meta.n_words = s.n_words;
        p.meta.n_chars = s.n_chars;
        if (needWords) p.words = spans.copy();
        const v = o.drop ? lengthVerdict(s, o) : null;
        if (v) drop(p, v, `n_words=${s.n_words} n_chars=${s.n_chars}`);
      }
    }
    if (filters.language) {
      const { languages, minScore, drop: drops, maxChars } = filters.language;
      for (const p of batch) {
        if (p.reason) continue;
        const lid = identifyLanguageSync(p.raw.text, maxChars);
        p.language = lid.language;
        p.meta.lid_language = lid.language;
        p.meta.lid_score = lid.score;
        if (drops && languages && (!languages.includes(lid.language) || lid.score < minScore)) {
          drop(p, 'language', `lid_language=${lid.language} lid_score=${fmt(lid.score)}`);
        }
      }
    }
    for (const p of batch) {
      const text = p.raw.text;
      // The words, found once (as spans) for the length and both Gopher filters.
      const words = p.reason || !needWords ? spans : (p.words ?? spans.scan(text));
      p.words = null;
      if (!p.reason && filters.gopherQuality) {
        const q = filters.gopherQuality;
        const s = gopherQualityScores(text, undefined, words);
        assignScores(p.meta, s);
        const applies = q.languages === null || p.language === null || q.languages.includes(p.language);
        const v = q.drop && applies ? gopherQualityVerdict(s, q) : null;
        if (v) drop(p, v, Object.entries(s).map(([k, x]) => `${k.replace('gopher_', '')}=${fmt(x)}`).join(' '));
      }
      if (!p.reason && filters.gopherRepetition) {
        const s = gopherRepetitionScores(text, undefined, words);
        assignScores(p.meta, s);
        const v = filters.gopherRepetition.drop ? gopherRepetitionVerdict(s, filters.gopherRepetition) : null;
        if (v) {
          const key = `gopher_${v.slice('gopher-repetition:'.length).replace(/-/g, '_').replace(/^(top|dup)_(\d+gram)$/, '$1_$2_frac')}`;
          const value = (s as unknown as Record<string, number>)[key];
          drop(p, v, value === undefined ? '' : `${key.replace('gopher_', '')}=${fmt(value)}`);
        }
      }
      const { raw, reason } = p;
      if (reason) {
        result.dropped[reason] = (result.dropped[reason] ?? 0) + 1;
        const rank = rankOf(raw.id);
        if (sample.wants(rank)) {
          sample.offer({
            reason,
            id: raw.id,
            source: raw.source,
            unit: unit.ordinal,
            item: p.position,
            file: unit.relative,
            where: whereOf(raw),
            detail: p.detail,
            textLength: text.length,
            text: text.slice(0, REJECT_TEXT_CHARS),
            rank,
          });
        }
        continue;
      }
      if (needKeys) {
        const keys = keyer.keys(text);
        exact.push(keys.hi, keys.lo);
        if (hasher) bandParts.push(keys.bands);
      } else {
        // No dedup (`--no-dedup`): the keys would cost about a third of a WET document's reading; zeros are never compared.
        exact.push(0, 0);
      }
      result.docs.push({ id: raw.id, text, source: raw.source, meta: p.meta });
    }
  };

  let item = 0;
  let batch: Pending[] = [];
  let batchChars = 0;
  try {
    for await (const raw of source) {
      const position = item++;
      result.read++;
      result.textBytes += Buffer.byteLength(raw.text);
      // The readers name the file as they were given it (absolute); the column holds the path relative to the input
      // folder, so shards do not depend on where the corpus sits. Books already do this (and name the @stdlib file).
      const meta = metaOf((raw.meta ?? {}) as Meta);
      if (unit.kind !== 'books') meta.file = unit.relative;
      batch.push({ raw, words: null, position, meta, reason: null, detail: '', language: null });
      batchChars += raw.text.length;
      // Batches of 64 documents or 4 M characters, whichever comes first: bounded memory for long documents.
      if (batch.length >= 64 || batchChars >= 4 << 20) {
        const full = batch;
        batch = [];
        batchChars = 0;
        await runBatch(full);
      }
    }
  } catch (error) {
    if (!(error instanceof PretextError)) throw error;
    // Books throw per file; the Common Crawl and Wikipedia readers throw only in strict mode.
    if (task.strict) result.fatal = serializeError(error);
    else result.errors.push(serializeError(error));
  }
  // The documents read before an error count as before: they are filtered and kept.
  await runBatch(batch);
  result.exact = Uint32Array.from(exact);
  if (hasher) {
    const width = 2 * task.dedup.bands;
    result.bands = new Uint32Array(width * result.docs.length);
    bandParts.forEach((keys, i) => result.bands.set(keys, i * width));
  }
  result.rejects = sample.entries();
  return result;
}

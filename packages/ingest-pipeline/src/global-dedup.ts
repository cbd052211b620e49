import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, PretextError, type Document } from '@pretext/core';
import { metaFieldsOf, readDocuments, readManifest, writeDocuments, writeFileAtomic, type Manifest } from '@pretext/shards';
import { Deduplicator, type DedupVerdict } from './dedup.js';
import { rankOf, REJECT_TEXT_CHARS, RejectSample, type Reject } from './rejects.js';
import { HELD_FILE, SignatureReader, STATUS_EXACT, STATUS_KEPT, STATUS_NEAR, type SignatureBlock, type SignatureFileInfo } from './signatures.js';
import { addCount, emptyCounters, sortedRecord, type RunCounters } from './stats.js';

/** The rank folders of a multi-machine run do not fit together (missing, repeated or mismatched ranks). */
export class GlobalDedupError extends PretextError {
  readonly code = 'GlobalDedup';
  constructor(readonly subject: string, readonly reason: string) {
    super(`${subject}: ${reason}`);
  }
}

export interface GlobalDedupProgress {
  /** Signature rows (documents that passed the filters on some rank) decided so far, of all ranks' rows. */
  rows: number;
  totalRows: number;
  /** Work units done, of the run's units. */
  units: number;
  totalUnits: number;
  kept: number;
  duplicates: { exact: number; near: number };
  rowsPerSecond: number;
}

export interface GlobalDedupOptions {
  /** The `--out` folders of every rank of one run (`ingest` with `rank`/`worldSize`), in any order. */
  inputs: string[];
  /** Folder for the deduplicated shards, `manifest.json`, `stats.json` and `rejects.jsonl`. */
  outDir: string;
  /** A shard closes at this many bytes of text. Default 64 MiB (give the ranks' value for shards equal to a one-machine run's). */
  maxShardBytes?: number;
  /** Folder relative paths are resolved against. Default `process.cwd()`. */
  cwd?: string;
  onProgress?: (p: GlobalDedupProgress) => void;
}

/** Counts of the whole run (as a `worldSize` 1 run would report them) plus what this step changed and what it cost. */
export interface GlobalDedupStats extends RunCounters {
  kind: string;
  files: number;
  units: number;
  unitsRead: number;
  worldSize: number;
  /** Documents the ranks kept that are duplicates of documents of other ranks (removed here), by kind. */
  crossRank: { exact: number; near: number };
  /** Near duplicates a rank dropped whose earlier copy was itself removed globally: kept, as one machine would. */
  restored: number;
  signatureRows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Peak resident set size (bytes) and the dedup tables' size. */
  memory: { peakRssBytes: number; dedupBytes: number };
}

export interface GlobalDedupResult {
  manifest: Manifest;
  stats: GlobalDedupStats;
}

interface RankDir {
  dir: string;
  manifest: Manifest;
  settings: Record<string, unknown>;
  rank: number;
  worldSize: number;
  info: SignatureFileInfo;
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

async function readRank(dir: string): Promise<RankDir> {
  const manifest = await readManifest(dir);
  const settings = manifest.settings;
  if (manifest.kind !== 'documents' || settings.tool !== '@pretext/ingest-pipeline') {
    throw new GlobalDedupError(dir, 'was not written by pretext ingest; give the --out folders of the ranks of one ingest run');
  }
  const info = manifest.stats?.dedupSignatures as SignatureFileInfo | undefined;
  if (!info || typeof info.file !== 'string' || !info.held) {
    throw new GlobalDedupError(dir, 'holds no dedup signatures; ingest every rank with --world-size > 1 (or signatures: true) with this version of pretext');
  }
  const rank = Number(settings.rank);
  const worldSize = Number(settings.worldSize);
  return { dir, manifest, settings, rank, worldSize, info };
}

/** The first setting (other than the rank) in which two ranks differ, or null. */
function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'rank').sort();
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (stable(x) === stable(y)) continue;
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x)) {
      const inner = firstDifference(x as Record<string, unknown>, y as Record<string, unknown>);
      if (inner) return `${k}.${inner}`;
    }
    return k;
  }
  return null;
}

function valueAt(o: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

/** Checks that the folders are every rank of one run, once each, with the same settings; returns them by rank. */
export async function checkRanks(dirs: readonly string[]): Promise<RankDir[]> {
  if (dirs.length === 0) throw new GlobalDedupError('(no rank folders)', 'give the --out folder of every rank of the run');
  const seen = new Map<string, string>();
  for (const d of dirs) {
    if (seen.has(d)) throw new GlobalDedupError(d, 'is given twice; give each rank folder once');
    seen.set(d, d);
  }
  const ranks = await Promise.all(dirs.map(readRank));
  const ref = ranks[0]!;
  for (const r of ranks.slice(1)) {
    const key = firstDifference(ref.settings, r.settings);
    if (key) {
      throw new GlobalDedupError(
        r.dir,
        `was ingested with ${key}=${JSON.stringify(valueAt(r.settings, key)) ?? 'unset'} but ${ref.dir} with ${key}=${JSON.stringify(valueAt(ref.settings, key)) ?? 'unset'}; every rank must run with the same inputs and options`,
      );
    }
    if (stable(r.manifest.schema) !== stable(ref.manifest.schema)) throw new GlobalDedupError(r.dir, `has other columns than ${ref.dir}; every rank must run with the same options`);
    if (r.manifest.stats?.units !== ref.manifest.stats?.units) {
      throw new GlobalDedupError(r.dir, `planned ${String(r.manifest.stats?.units)} work units but ${ref.dir} ${String(ref.manifest.stats?.units)}; the ranks read different inputs`);
    }
  }
  const worldSize = ref.worldSize;
  const byRank: (RankDir | undefined)[] = new Array(worldSize);
  for (const r of ranks) {
    const other = byRank[r.rank];
    if (other) throw new GlobalDedupError(r.dir, `is rank ${r.rank}, like ${other.dir}; give each rank's folder once`);
    byRank[r.rank] = r;
  }
  const missing = [...byRank.keys()].filter((k) => !byRank[k]);
  if (missing.length > 0) {
    throw new GlobalDedupError(
      `rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${worldSize}`,
      `missing (given: ranks ${ranks.map((r) => r.rank).sort((a, b) => a - b).join(', ')}); wait for every rank to finish and give all their folders`,
    );
  }
  return byRank as RankDir[];
}

function sumCounters(into: RunCounters, s: Record<string, unknown>): void {
  const c = s as unknown as RunCounters;
  into.read += c.read;
  into.inputBytes += c.inputBytes;
  into.textBytesRead += c.textBytesRead;
  for (const [k, n] of Object.entries(c.skipped)) addCount(into.skipped, k, n);
  // Duplicates are decided again over the whole run; the filters' drops add up.
  for (const [k, n] of Object.entries(c.dropped)) if (!k.startsWith('duplicate-')) addCount(into.dropped, k, n);
  into.errors.count += c.errors.count;
  for (const f of c.errors.files) {
    const entry = into.errors.files.find((e) => e.file === f.file);
    if (!entry) into.errors.files.push({ ...f, errors: [...f.errors] });
    else {
      entry.count += f.count;
      entry.errors.push(...f.errors.slice(0, Math.max(0, 20 - entry.errors.length)));
    }
  }
}

interface Cursor {
  rank: RankDir;
  reader: SignatureReader;
  block: SignatureBlock | null;
  pos: number;
  docs: AsyncIterator<Document>;
  held: AsyncIterator<string>;
  heldStream: ReturnType<typeof createReadStream>;
  heldRows: number;
}

async function nextOf<T>(it: AsyncIterator<T>): Promise<T | null> {
  const r = await it.next();
  return r.done ? null : r.value;
}

/**
 * The reduce step of a multi-machine ingest: reads every rank's dedup signatures and decides duplicates again over
 * the whole run, in global order (work unit, then document), exactly as one machine (`worldSize` 1) would: the same
 * documents survive, in the same order, and with the same `maxShardBytes` the shards are byte-identical to such a
 * run's. Documents a rank kept that duplicate another rank's are removed; near duplicates a rank dropped whose
 * earlier copy is itself removed come back from the rank's `dedup-held.jsonl`. Streams: memory holds the dedup
 * tables (keys of kept documents), one signature block and one record batch per rank, never the corpus.
 */
export async function globalDedup(options: GlobalDedupOptions): Promise<GlobalDedupResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const dirs = options.inputs.map((d) => path.resolve(cwd, d));
  const outDir = path.resolve(cwd, options.outDir);
  const maxShardBytes = options.maxShardBytes ?? 64 * 1024 * 1024;
  if (!(Number.isInteger(maxShardBytes) && maxShardBytes > 0)) throw new ConfigError('maxShardBytes', maxShardBytes, 'a positive integer');
  if (dirs.includes(outDir)) throw new ConfigError('outDir', options.outDir, 'a folder other than the rank folders');
  const ranks = await checkRanks(dirs);
  const ref = ranks[0]!;
  const W = ranks.length;
  const dedup = ref.settings.dedup as { exact: boolean; near: boolean; bands: number; rows: number; shingleSize: number; seed: number };
  const totalUnits = Number(ref.manifest.stats?.units ?? 0);
  const rejectsSample = Number(ref.settings.rejectsSample ?? 1000);

  const cursors: Cursor[] = [];
  const close = async () => {
    for (const c of cursors) {
      await c.reader.close();
      await c.docs.return?.();
      await c.held.return?.();
      c.heldStream.destroy();
    }
  };
  const counters = emptyCounters();
  const rejects = new RejectSample(rejectsSample);
  // A rank's sampled duplicate rejects, by position: the text of documents it dropped as exact duplicates.
  const rankDuplicates = new Map<string, Reject>();
  let totalRows = 0;
  try {
    for (const r of ranks) {
      const file = path.join(r.dir, r.info.file);
      const reader = await SignatureReader.open(file);
      const h = reader.header;
      const expected = { rank: r.rank, worldSize: r.worldSize, exact: dedup.exact, near: dedup.near, bandKeys: dedup.near ? dedup.bands : 0 };
      for (const [k, v] of Object.entries(expected)) {
        if ((h as unknown as Record<string, unknown>)[k] !== v) {
          await reader.close();
          throw new GlobalDedupError(file, `has ${k}=${String((h as unknown as Record<string, unknown>)[k])} but its manifest says ${String(v)}; rerun that rank`);
        }
      }
      if (reader.size !== r.info.bytes || h.rowCount !== r.info.rows) {
        await reader.close();
        throw new GlobalDedupError(file, `has ${reader.size} bytes and ${h.rowCount} rows but the manifest records ${r.info.bytes} and ${r.info.rows}; rerun that rank`);
      }
      const heldFile = path.join(r.dir, r.info.held.file ?? HELD_FILE);
      const heldSize = await stat(heldFile).then((s) => s.size, () => -1);
      if (heldSize !== r.info.held.bytes) {
        await reader.close();
        throw new GlobalDedupError(heldFile, heldSize < 0 ? 'is missing; rerun that rank' : `has ${heldSize} bytes but the manifest records ${r.info.held.bytes}; rerun that rank`);
      }
      totalRows += h.rowCount;
      const heldStream = createReadStream(heldFile);
      const lines = createInterface({ input: heldStream, crlfDelay: Infinity });
      cursors.push({ rank: r, reader, block: null, pos: 0, docs: readDocuments(r.dir)[Symbol.asyncIterator](), held: lines[Symbol.asyncIterator](), heldStream, heldRows: 0 });
      sumCounters(counters, r.manifest.stats ?? {});
      const rejectsText = await readFile(path.join(r.dir, 'rejects.jsonl'), 'utf8').catch(() => '');
      for (const line of rejectsText.split('\n')) {
        if (line.trim() === '') continue;
        const e = JSON.parse(line) as Omit<Reject, 'rank'>;
        const entry: Reject = { ...e, rank: rankOf(e.id) };
        if (e.reason.startsWith('duplicate-')) rankDuplicates.set(`${e.unit}:${e.item}`, entry);
        else rejects.offer(entry);
      }
    }
  } catch (error) {
    await close();
    throw error;
  }

  const dedupper = new Deduplicator(dedup.exact, dedup.near, dedup.bands);
  const width = dedup.near ? 2 * dedup.bands : 0;
  const noBands = new Uint32Array(0);
  const crossRank = { exact: 0, near: 0 };
  let restored = 0;
  let rows = 0;
  let unitsDone = 0;
  let lastProgress = 0;
  const progress = (force: boolean) => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!force && now - lastProgress < 100) return;
    lastProgress = now;
    options.onProgress({
      rows,
      totalRows,
      units: unitsDone,
      totalUnits,
      kept: counters.kept,
      duplicates: { ...counters.duplicates },
      rowsPerSecond: rows / Math.max(1e-3, (now - started) / 1000),
    });
  };

  async function* documents(): AsyncGenerator<Document> {
    for (let u = 0; u < totalUnits; u++) {
      const c = cursors[u % W]!;
      const dir = c.rank.dir;
      let lastItem = -1;
      for (;;) {
        if (!c.block || c.pos >= c.block.n) {
          c.block = await c.reader.next();
          c.pos = 0;
          if (!c.block) break;
        }
        const b = c.block;
        const p = c.pos;
        const ordinal = b.ordinal[p]!;
        if (ordinal !== u) {
          if (ordinal < u || ordinal % W !== c.rank.rank) throw new GlobalDedupError(c.reader.file, `has a row of work unit ${ordinal} where unit ${u} or later of rank ${c.rank.rank} was expected; rerun that rank`);
          break;
        }
        const item = b.item[p]!;
        if (item <= lastItem) throw new GlobalDedupError(c.reader.file, `has its rows out of order in work unit ${u}; rerun that rank`);
        lastItem = item;
        c.pos++;
        rows++;
        const id = Buffer.from(b.ids.buffer, b.ids.byteOffset + 16 * p, 16).toString('hex');
        const status = b.status[p]!;
        let doc: Document | null = null;
        if (status === STATUS_KEPT) {
          doc = await nextOf(c.docs);
          if (!doc) throw new GlobalDedupError(dir, `its shards end before document ${id} that its signatures list as kept; rerun that rank`);
        } else if (status === STATUS_NEAR) {
          const line = await nextOf(c.held);
          if (line === null) throw new GlobalDedupError(path.join(dir, HELD_FILE), `ends before document ${id}; rerun that rank`);
          c.heldRows++;
          doc = JSON.parse(line) as Document;
        } else if (status !== STATUS_EXACT) {
          throw new GlobalDedupError(c.reader.file, `has an unknown status ${status} at document ${id}; rerun that rank`);
        }
        if (doc && doc.id !== id) throw new GlobalDedupError(dir, `holds document ${doc.id} where its signatures list ${id}; the folder was changed after ingest, rerun that rank`);
        const bands = width > 0 ? b.bands.subarray(p * width, (p + 1) * width) : noBands;
        const verdict: DedupVerdict = dedupper.check(b.exact[2 * p]!, b.exact[2 * p + 1]!, bands);
        if (verdict === null) {
          if (!doc) {
            // Needs two different normalized texts with the same 64-bit key in one rank: not expected to happen.
            throw new GlobalDedupError(dir, `dropped document ${id} as an exact duplicate, but over the whole run it is unique (a 64-bit key collision); ingest with worldSize 1 or without exact dedup`);
          }
          if (status === STATUS_NEAR) restored++;
          counters.kept++;
          counters.textBytesKept += Buffer.byteLength(doc.text);
          yield doc;
          continue;
        }
        addCount(counters.dropped, verdict);
        if (verdict === 'duplicate-exact') counters.duplicates.exact++;
        else counters.duplicates.near++;
        if (status === STATUS_KEPT) {
          if (verdict === 'duplicate-exact') crossRank.exact++;
          else crossRank.near++;
        }
        const rank = rankOf(id);
        if (!rejects.wants(rank)) continue;
        if (doc) {
          const m = doc.meta ?? {};
          rejects.offer({
            reason: verdict,
            id,
            source: doc.source,
            unit: u,
            item,
            file: m.file != null ? String(m.file) : '',
            where: m.url != null ? String(m.url) : m.title != null ? String(m.title) : null,
            detail: '',
            textLength: doc.text.length,
            text: doc.text.slice(0, REJECT_TEXT_CHARS),
            rank,
          });
        } else {
          const sampled = rankDuplicates.get(`${u}:${item}`);
          if (sampled) rejects.offer({ ...sampled, reason: verdict });
        }
      }
      // The log is for an ingest's resume; here it is only emptied.
      dedupper.takeLog();
      unitsDone++;
      progress(false);
    }
    for (const c of cursors) {
      if ((c.block && c.pos < c.block.n) || (await c.reader.next())) throw new GlobalDedupError(c.reader.file, `has rows past the run's ${totalUnits} work units; rerun that rank`);
      if (await nextOf(c.docs)) throw new GlobalDedupError(c.rank.dir, 'holds more documents than its signatures list; rerun that rank');
      if ((await nextOf(c.held)) !== null) throw new GlobalDedupError(path.join(c.rank.dir, HELD_FILE), 'holds more documents than its signatures list; rerun that rank');
    }
    progress(true);
    const lines = rejects.inRunOrder().map(({ rank: _, ...r }) => JSON.stringify(r));
    await writeFileAtomic(path.join(outDir, 'rejects.jsonl'), lines.length > 0 ? lines.join('\n') + '\n' : '');
    Object.assign(statsOut, {
      files: ref.manifest.stats?.files,
      units: totalUnits,
      unitsRead: ranks.reduce((n, r) => n + Number(r.manifest.stats?.unitsRead ?? 0), 0),
      read: counters.read,
      kept: counters.kept,
      dropped: sortedRecord(counters.dropped),
      duplicates: counters.duplicates,
      skipped: sortedRecord(counters.skipped),
      inputBytes: counters.inputBytes,
      textBytesRead: counters.textBytesRead,
      textBytesKept: counters.textBytesKept,
      errors: counters.errors,
    });
    // Written before the manifest, so a folder with a manifest always has it.
    const seconds = (performance.now() - started) / 1000;
    stats = {
      kind: String(ref.settings.kind),
      files: Number(statsOut.files ?? 0),
      units: totalUnits,
      unitsRead: Number(statsOut.unitsRead),
      worldSize: W,
      ...counters,
      dropped: sortedRecord(counters.dropped),
      skipped: sortedRecord(counters.skipped),
      crossRank,
      restored,
      signatureRows: totalRows,
      seconds,
      rowsPerSecond: rows / Math.max(seconds, 1e-3),
      memory: { peakRssBytes: process.resourceUsage().maxRSS * 1024, dedupBytes: dedupper.bytes },
    };
    await writeFileAtomic(path.join(outDir, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
  }

  const { rank: _rank, dedupSignatures: _sig, ...common } = ref.settings;
  const settings = { ...common, worldSize: W, globalDedup: true };
  const statsOut: Record<string, unknown> = {};
  let stats: GlobalDedupStats | null = null;
  await mkdir(outDir, { recursive: true });
  let manifest: Manifest;
  try {
    manifest = await writeDocuments(documents(), { outDir, metaFields: metaFieldsOf(ref.manifest), settings, stats: statsOut, maxShardBytes });
  } finally {
    await close();
  }
  return { manifest, stats: stats! };
}

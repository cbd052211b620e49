import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, stat, truncate, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConfigError, ManifestError, type Document } from '@pretext/core';
import { removeIfExists } from './checkpoint.js';
import type { DedupVerdict } from './dedup.js';
import type { DedupOptions } from './minhash.js';

/**
 * The dedup signature file a rank writes next to its shards (`--world-size` > 1): one row per document that passed
 * the filters, kept or not, in the rank's run order, so `globalDedup` can replay the whole run's deduplication in
 * global order. Format (little-endian), documented in docs/ingest.md:
 *
 * header, 64 bytes: magic `PRETXSIG`, u32 version (1), u32 header bytes (64), u32 band keys per row (B; 0 when near
 * dedup is off), u32 rows per band, u32 shingle size, i32 seed, u32 flags (bit 0 exact, bit 1 near), u32 rank,
 * u32 world size, u32 0, u64 rows (all ones while the file is being written), u64 0.
 *
 * then blocks, each: u32 n, u32 0, then columns of n rows: u32 unit ordinal, u32 item (index among the unit's
 * documents after filters), 16 bytes id (the 32 hex digits), 2 × u32 exact key (hi, lo), 2B × u32 band keys
 * (hi, lo per band), u8 status (0 kept in the rank's shards, 1 dropped there as an exact duplicate, 2 dropped
 * there as a near duplicate: its document is in `dedup-held.jsonl`), zero-padded to a multiple of 4 bytes.
 */
export const SIGNATURES_FILE = 'dedup-signatures.bin';
/** Documents a rank dropped as near duplicates, one JSON object (`id`, `text`, `source`, `meta`) per line, in run order. */
export const HELD_FILE = 'dedup-held.jsonl';
export const SIGNATURES_MAGIC = 'PRETXSIG';
export const SIGNATURES_VERSION = 1;
const HEADER_BYTES = 64;
/** Rows per block: ~0.5 MB with 14 bands, the reader's unit of memory. */
export const BLOCK_ROWS = 4096;
const HELD_FLUSH_BYTES = 1 << 20;
const UNFINISHED = 0xffffffffffffffffn;

export const STATUS_KEPT = 0;
export const STATUS_EXACT = 1;
export const STATUS_NEAR = 2;

export interface SignatureParams {
  exact: boolean;
  near: boolean;
  bands: number;
  rows: number;
  shingleSize: number;
  seed: number;
  rank: number;
  worldSize: number;
}

/** Where the signature files stood at a checkpoint (bytes and rows of the temporary files). */
export interface SignatureCheckpoint {
  bytes: number;
  rows: number;
  heldBytes: number;
  heldRows: number;
}

/** What the manifest's `stats.dedupSignatures` records. */
export interface SignatureFileInfo {
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  held: { file: string; rows: number; bytes: number; sha256: string };
}

const tmpName = (file: string) => `.${file}.tmp`;

function checkEndianness(): void {
  // Typed arrays are written and read as they lie in memory; every platform Node supports in practice is little-endian.
  if (endianness() !== 'LE') throw new ConfigError('endianness', endianness(), 'a little-endian machine for dedup signature files');
}

export function paramsOf(dedup: Required<DedupOptions>, rank: number, worldSize: number): SignatureParams {
  return { exact: dedup.exact, near: dedup.near, bands: dedup.bands, rows: dedup.rows, shingleSize: dedup.shingleSize, seed: dedup.seed, rank, worldSize };
}

function encodeHeader(p: SignatureParams, rows: bigint): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write(SIGNATURES_MAGIC, 0, 'latin1');
  h.writeUInt32LE(SIGNATURES_VERSION, 8);
  h.writeUInt32LE(HEADER_BYTES, 12);
  h.writeUInt32LE(p.near ? p.bands : 0, 16);
  h.writeUInt32LE(p.rows, 20);
  h.writeUInt32LE(p.shingleSize, 24);
  h.writeInt32LE(p.seed, 28);
  h.writeUInt32LE((p.exact ? 1 : 0) | (p.near ? 2 : 0), 32);
  h.writeUInt32LE(p.rank, 36);
  h.writeUInt32LE(p.worldSize, 40);
  h.writeBigUInt64LE(rows, 48);
  return h;
}

export interface SignatureHeader extends SignatureParams {
  version: number;
  /** Band keys per row (0 when near dedup is off). */
  bandKeys: number;
  rowCount: number;
}

function decodeHeader(h: Buffer, file: string): SignatureHeader {
  if (h.length < HEADER_BYTES || h.toString('latin1', 0, 8) !== SIGNATURES_MAGIC) throw new ManifestError(file, 'is not a pretext dedup signature file (bad magic)');
  const version = h.readUInt32LE(8);
  if (version !== SIGNATURES_VERSION) throw new ManifestError(file, `has signature format version ${version} but this reader knows ${SIGNATURES_VERSION}; upgrade pretext`);
  const flags = h.readUInt32LE(32);
  const rows = h.readBigUInt64LE(48);
  if (rows === UNFINISHED) throw new ManifestError(file, 'was not finished (the rank was interrupted); rerun that rank with --resume');
  return {
    version,
    bandKeys: h.readUInt32LE(16),
    bands: h.readUInt32LE(16),
    rows: h.readUInt32LE(20),
    shingleSize: h.readUInt32LE(24),
    seed: h.readInt32LE(28),
    exact: (flags & 1) !== 0,
    near: (flags & 2) !== 0,
    rank: h.readUInt32LE(36),
    worldSize: h.readUInt32LE(40),
    rowCount: Number(rows),
  };
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Removes the signature files and their temporary versions (a fresh run, or one without signatures). */
export async function removeSignatureFiles(dir: string): Promise<void> {
  for (const f of [SIGNATURES_FILE, HELD_FILE]) {
    await removeIfExists(path.join(dir, f));
    await removeIfExists(path.join(dir, tmpName(f)));
  }
}

const sizeOf = (file: string) => stat(file).then((s) => s.size, () => -1);

/** True when the files a checkpoint counts on are there (as temporary files, or already renamed) and long enough. */
export async function signaturesIntact(dir: string, c: SignatureCheckpoint | undefined): Promise<boolean> {
  if (!c) return false;
  for (const [file, bytes] of [[SIGNATURES_FILE, c.bytes], [HELD_FILE, c.heldBytes]] as const) {
    const size = Math.max(await sizeOf(path.join(dir, tmpName(file))), await sizeOf(path.join(dir, file)));
    if (size < bytes) return false;
  }
  return true;
}

const HEX = /^[0-9a-f]{32}$/;

/**
 * Appends signature rows (and held documents) to temporary files; `sync` makes what was written durable for a
 * checkpoint, `finish` writes the row count into the header and renames the files into place. A resumed run cuts
 * the temporary files back to the checkpoint's length and appends from there, so the files equal an uninterrupted
 * run's byte for byte.
 */
export class SignatureWriter {
  private ordinal: Uint32Array;
  private item: Uint32Array;
  private ids: Uint8Array;
  private exactKeys: Uint32Array;
  private bandKeys: Uint32Array;
  private status: Uint8Array;
  private n = 0;
  private held: string[] = [];
  private heldPending = 0;
  private readonly width: number;

  private constructor(
    readonly dir: string,
    readonly params: SignatureParams,
    private fh: FileHandle,
    private heldFh: FileHandle,
    private bytes: number,
    private rows: number,
    private heldBytes: number,
    private heldRows: number,
  ) {
    this.width = params.near ? 2 * params.bands : 0;
    this.ordinal = new Uint32Array(BLOCK_ROWS);
    this.item = new Uint32Array(BLOCK_ROWS);
    this.ids = new Uint8Array(16 * BLOCK_ROWS);
    this.exactKeys = new Uint32Array(2 * BLOCK_ROWS);
    this.bandKeys = new Uint32Array(this.width * BLOCK_ROWS);
    this.status = new Uint8Array(BLOCK_ROWS);
  }

  /** Starts fresh files, or (with a checkpoint) continues the temporary files of an interrupted run. */
  static async open(dir: string, params: SignatureParams, resume: SignatureCheckpoint | null): Promise<SignatureWriter> {
    checkEndianness();
    const main = path.join(dir, tmpName(SIGNATURES_FILE));
    const held = path.join(dir, tmpName(HELD_FILE));
    if (!resume) {
      await removeSignatureFiles(dir);
      const fh = await open(main, 'w');
      await fh.write(encodeHeader(params, UNFINISHED), 0, HEADER_BYTES, 0);
      return new SignatureWriter(dir, params, fh, await open(held, 'w'), HEADER_BYTES, 0, 0, 0);
    }
    // Killed after the files were renamed but before the manifest: take them back as temporary files.
    for (const [tmp, final] of [[main, path.join(dir, SIGNATURES_FILE)], [held, path.join(dir, HELD_FILE)]] as const) {
      if ((await sizeOf(tmp)) < 0 && (await sizeOf(final)) >= 0) await rename(final, tmp);
      await truncate(tmp, tmp === main ? resume.bytes : resume.heldBytes);
    }
    const fh = await open(main, 'r+');
    await fh.write(encodeHeader(params, UNFINISHED), 0, HEADER_BYTES, 0);
    return new SignatureWriter(dir, params, fh, await open(held, 'r+'), resume.bytes, resume.rows, resume.heldBytes, resume.heldRows);
  }

  /** One document that passed the filters, with the rank's verdict on it; near duplicates keep their document. */
  async add(ordinal: number, item: number, doc: Document, exactHi: number, exactLo: number, bands: Uint32Array, verdict: DedupVerdict): Promise<void> {
    if (!HEX.test(doc.id)) throw new ConfigError('document.id', doc.id, '32 lower-case hex digits (the ids ingest gives) for a dedup signature row');
    const n = this.n;
    this.ordinal[n] = ordinal;
    this.item[n] = item;
    this.ids.set(Buffer.from(doc.id, 'hex'), 16 * n);
    this.exactKeys[2 * n] = exactHi;
    this.exactKeys[2 * n + 1] = exactLo;
    if (this.width > 0) {
      // Texts without words have no band keys in the run's check either: their words are zero here and there.
      this.bandKeys.fill(0, n * this.width, (n + 1) * this.width);
      this.bandKeys.set(bands.subarray(0, this.width), n * this.width);
    }
    this.status[n] = verdict === null ? STATUS_KEPT : verdict === 'duplicate-exact' ? STATUS_EXACT : STATUS_NEAR;
    this.n++;
    if (verdict === 'duplicate-near') {
      const line = JSON.stringify({ id: doc.id, text: doc.text, source: doc.source, meta: doc.meta ?? {} }) + '\n';
      this.held.push(line);
      this.heldPending += line.length;
    }
    if (this.n === BLOCK_ROWS) await this.flushBlock();
    if (this.heldPending >= HELD_FLUSH_BYTES) await this.flushHeld();
  }

  private async flushBlock(): Promise<void> {
    const n = this.n;
    if (n === 0) return;
    const pad = (4 - (n % 4)) % 4;
    const head = new Uint32Array([n, 0]);
    const parts: Uint8Array[] = [
      head,
      this.ordinal.subarray(0, n),
      this.item.subarray(0, n),
      this.ids.subarray(0, 16 * n),
      this.exactKeys.subarray(0, 2 * n),
      this.bandKeys.subarray(0, this.width * n),
      this.status.subarray(0, n),
      new Uint8Array(pad),
    ].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const size = parts.reduce((s, p) => s + p.byteLength, 0);
    const block = Buffer.concat(parts, size);
    await this.fh.write(block, 0, size, this.bytes);
    this.bytes += size;
    this.rows += n;
    this.n = 0;
  }

  private async flushHeld(): Promise<void> {
    if (this.held.length === 0) return;
    const buf = Buffer.from(this.held.join(''));
    await this.heldFh.write(buf, 0, buf.length, this.heldBytes);
    this.heldBytes += buf.length;
    this.heldRows += this.held.length;
    this.held = [];
    this.heldPending = 0;
  }

  /** Writes what is buffered and fsyncs: the returned position is durable, for a checkpoint. */
  async sync(): Promise<SignatureCheckpoint> {
    await this.flushBlock();
    await this.flushHeld();
    await this.fh.sync();
    await this.heldFh.sync();
    return { bytes: this.bytes, rows: this.rows, heldBytes: this.heldBytes, heldRows: this.heldRows };
  }

  /** Completes the files (row count in the header, fsync) and renames them into place. */
  async finish(): Promise<SignatureFileInfo> {
    await this.sync();
    await this.fh.write(encodeHeader(this.params, BigInt(this.rows)), 0, HEADER_BYTES, 0);
    await this.fh.sync();
    await this.close();
    const main = path.join(this.dir, SIGNATURES_FILE);
    const held = path.join(this.dir, HELD_FILE);
    await rename(path.join(this.dir, tmpName(SIGNATURES_FILE)), main);
    await rename(path.join(this.dir, tmpName(HELD_FILE)), held);
    return {
      file: SIGNATURES_FILE,
      rows: this.rows,
      bytes: this.bytes,
      sha256: await sha256OfFile(main),
      held: { file: HELD_FILE, rows: this.heldRows, bytes: this.heldBytes, sha256: await sha256OfFile(held) },
    };
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await this.heldFh.close().catch(() => undefined);
  }
}

/** One block of signature rows: column views over one buffer. */
export interface SignatureBlock {
  n: number;
  ordinal: Uint32Array;
  item: Uint32Array;
  /** 16 bytes per row. */
  ids: Uint8Array;
  exact: Uint32Array;
  /** 2 × bandKeys words per row. */
  bands: Uint32Array;
  status: Uint8Array;
}

/** Reads a signature file's header, then its blocks one at a time (memory: one block). */
export class SignatureReader {
  private position = HEADER_BYTES;
  private rowsRead = 0;

  private constructor(readonly file: string, readonly header: SignatureHeader, private fh: FileHandle, readonly size: number) {}

  static async open(file: string): Promise<SignatureReader> {
    checkEndianness();
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ManifestError(file, code === 'ENOENT' ? 'is missing (the rank folder lists dedup signatures it does not hold)' : `cannot be read (${code ?? String(error)})`);
    }
    try {
      const h = Buffer.alloc(HEADER_BYTES);
      await fh.read(h, 0, HEADER_BYTES, 0);
      const header = decodeHeader(h, file);
      return new SignatureReader(file, header, fh, (await fh.stat()).size);
    } catch (error) {
      await fh.close();
      throw error;
    }
  }

  /** The next block, or null at the end (after checking the row count against the header). */
  async next(): Promise<SignatureBlock | null> {
    if (this.position >= this.size) {
      if (this.rowsRead !== this.header.rowCount) throw new ManifestError(this.file, `holds ${this.rowsRead} rows but its header says ${this.header.rowCount} (truncated); rerun that rank`);
      return null;
    }
    const head = Buffer.alloc(8);
    const { bytesRead } = await this.fh.read(head, 0, 8, this.position);
    const n = head.readUInt32LE(0);
    const w = 2 * this.header.bandKeys;
    const pad = (4 - (n % 4)) % 4;
    const body = n * (4 + 4 + 16 + 8 + 4 * w) + n + pad;
    if (bytesRead < 8 || n === 0 || this.position + 8 + body > this.size) throw new ManifestError(this.file, `has a damaged block at byte ${this.position}; rerun that rank`);
    const buf = new Uint8Array(body);
    await this.fh.read(buf, 0, body, this.position + 8);
    this.position += 8 + body;
    this.rowsRead += n;
    let at = 0;
    const u32 = (count: number) => {
      const v = new Uint32Array(buf.buffer, at, count);
      at += 4 * count;
      return v;
    };
    const ordinal = u32(n);
    const item = u32(n);
    const ids = buf.subarray(at, at + 16 * n);
    at += 16 * n;
    const exact = u32(2 * n);
    const bands = u32(w * n);
    const status = buf.subarray(at, at + n);
    return { n, ordinal, item, ids, exact, bands, status };
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

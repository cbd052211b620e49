import { open, mkdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@pretext/core';
import { readManifest, readTokenizedDocuments, vocabSizeOf } from '@pretext/shards';

export interface ExportProgress {
  documents: number;
  tokens: number;
}

export interface ExportMegatronOptions {
  /** Append this id after every document (Megatron's `--append-eod`). Default: nothing appended. */
  eod?: number;
  /** One sequence per sentence (Megatron's `--split-sentences`, for BERT-style datasets) instead of per document. Default false. */
  splitSentences?: boolean;
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportResult {
  files: string[];
  documents: number;
  sequences: number;
  tokens: number;
  /** Bytes per token in the written data. */
  itemSize: 2 | 4;
}

const MEGATRON_MAGIC = Buffer.from('MMIDIDX\x00\x00', 'latin1');
/** Megatron's dtype codes. */
export const MEGATRON_DTYPE = { uint8: 1, int8: 2, int16: 3, int32: 4, int64: 5, float64: 6, float32: 7, uint16: 8 } as const;

/** Buffered sequential writes of typed arrays to a file. */
class Sink {
  private buf = Buffer.allocUnsafe(1 << 22);
  private used = 0;
  position = 0;
  constructor(private readonly fh: FileHandle) {}
  async write(bytes: Uint8Array): Promise<void> {
    if (this.used + bytes.length > this.buf.length) await this.flush();
    if (bytes.length > this.buf.length) {
      await this.fh.write(bytes, 0, bytes.length, null);
    } else {
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
    }
    this.position += bytes.length;
  }
  async flush(): Promise<void> {
    if (this.used > 0) await this.fh.write(this.buf, 0, this.used, null);
    this.used = 0;
  }
}

function tokenBytes(ids: Int32Array, itemSize: 2 | 4): Uint8Array {
  if (itemSize === 4) return new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
  const out = Uint16Array.from(ids);
  return new Uint8Array(out.buffer);
}

async function vocabOf(dir: string): Promise<{ vocabSize: number; eos: number | undefined }> {
  const manifest = await readManifest(dir);
  const vocabSize = vocabSizeOf(manifest);
  if (vocabSize === undefined) throw new ConfigError('tokenShards', dir, 'a folder of token shards (its manifest records vocabSize)');
  const tok = manifest.settings.tokenizer as { special?: { eos?: number } } | undefined;
  return { vocabSize, eos: tok?.special?.eos };
}

/**
 * Writes Megatron-LM's indexed dataset (`PREFIX.bin` + `PREFIX.idx`, format version 1): tokens as uint16 when the
 * vocabulary has fewer than 65500 ids (Megatron's rule) else int32; the index holds the sequence lengths, their
 * byte pointers, and the document indices (sequence index where each document starts, then the sequence count).
 */
export async function exportMegatron(tokenShardsDir: string, prefix: string, options: ExportMegatronOptions = {}): Promise<ExportResult> {
  const { vocabSize } = await vocabOf(tokenShardsDir);
  const itemSize: 2 | 4 = vocabSize < 65500 ? 2 : 4;
  if (options.eod !== undefined && !(Number.isInteger(options.eod) && options.eod >= 0 && options.eod < vocabSize)) {
    throw new ConfigError('eod', options.eod, `a token id in [0, ${vocabSize})`);
  }
  await mkdir(path.dirname(path.resolve(prefix)), { recursive: true });
  const binFile = `${prefix}.bin`;
  const idxFile = `${prefix}.idx`;
  const lengths: number[] = [];
  const docIndices: number[] = [0];
  let tokens = 0;
  let documents = 0;
  const bin = await open(binFile, 'w');
  try {
    const sink = new Sink(bin);
    for await (const doc of readTokenizedDocuments(tokenShardsDir)) {
      let ids = doc.ids;
      if (options.eod !== undefined) {
        const withEod = new Int32Array(ids.length + 1);
        withEod.set(ids);
        withEod[ids.length] = options.eod;
        ids = withEod;
      }
      const cuts = options.splitSentences && doc.sentenceStarts ? [...doc.sentenceStarts, ids.length] : [0, ids.length];
      for (let k = 0; k + 1 < cuts.length; k++) {
        // the appended eod belongs to the document's last sentence
        const end = k + 2 === cuts.length ? ids.length : cuts[k + 1]!;
        const seq = ids.subarray(cuts[k]!, end);
        await sink.write(tokenBytes(seq, itemSize));
        lengths.push(seq.length);
      }
      tokens += ids.length;
      documents++;
      docIndices.push(lengths.length);
      if (documents % 1024 === 0) options.onProgress?.({ documents, tokens });
    }
    await sink.flush();
  } finally {
    await bin.close();
  }
  const n = lengths.length;
  const idx = Buffer.alloc(9 + 8 + 1 + 8 + 8 + 4 * n + 8 * n + 8 * docIndices.length);
  let p = MEGATRON_MAGIC.copy(idx, 0);
  p = idx.writeBigUInt64LE(1n, p);
  p = idx.writeUInt8(itemSize === 2 ? MEGATRON_DTYPE.uint16 : MEGATRON_DTYPE.int32, p);
  p = idx.writeBigUInt64LE(BigInt(n), p);
  p = idx.writeBigUInt64LE(BigInt(docIndices.length), p);
  for (const len of lengths) p = idx.writeInt32LE(len, p);
  let pointer = 0;
  for (const len of lengths) {
    p = idx.writeBigInt64LE(BigInt(pointer), p);
    pointer += len * itemSize;
  }
  for (const d of docIndices) p = idx.writeBigInt64LE(BigInt(d), p);
  const fh = await open(idxFile, 'w');
  try {
    await fh.write(idx, 0, idx.length, 0);
  } finally {
    await fh.close();
  }
  options.onProgress?.({ documents, tokens });
  return { files: [binFile, idxFile], documents, sequences: n, tokens, itemSize };
}

export interface ExportLlmcOptions {
  /** The end-of-text id written before every document. Default: the tokenizer's `eos` recorded in the token shards' manifest. */
  eot?: number;
  /** Start a new file after this many tokens (`OUT_000000.bin`, `OUT_000001.bin`, …, as llm.c's data scripts). Default: one file. */
  shardTokens?: number;
  onProgress?: (p: ExportProgress) => void;
}

/** llm.c's header: 256 int32s; magic 20240520 version 1 for uint16 tokens, magic 20240801 version 7 for uint32. */
export const LLMC_HEADER_INTS = 256;

/**
 * Writes llm.c's token file(s): a 1024-byte header (magic, version, token count) then the tokens, with the
 * end-of-text token before every document (as llm.c's `fineweb.py`). uint16 up to 65536 ids, else uint32.
 */
export async function exportLlmc(tokenShardsDir: string, outFile: string, options: ExportLlmcOptions = {}): Promise<ExportResult> {
  const { vocabSize, eos } = await vocabOf(tokenShardsDir);
  const eot = options.eot ?? eos;
  if (eot === undefined) throw new ConfigError('eot', eot, 'the end-of-text token id (the token shards record no eos token)');
  if (!(Number.isInteger(eot) && eot >= 0 && eot < vocabSize)) throw new ConfigError('eot', eot, `a token id in [0, ${vocabSize})`);
  const shardTokens = options.shardTokens ?? Infinity;
  if (!(shardTokens === Infinity || (Number.isInteger(shardTokens) && shardTokens > 0))) throw new ConfigError('shardTokens', shardTokens, 'a positive integer');
  const itemSize: 2 | 4 = vocabSize <= 65536 ? 2 : 4;
  await mkdir(path.dirname(path.resolve(outFile)), { recursive: true });
  const base = outFile.endsWith('.bin') ? outFile.slice(0, -4) : outFile;
  const nameOf = (i: number) => (shardTokens === Infinity ? outFile : `${base}_${String(i).padStart(6, '0')}.bin`);
  const files: string[] = [];
  let fh: FileHandle | null = null;
  let sink: Sink | null = null;
  let inFile = 0;
  let tokens = 0;
  let documents = 0;
  const header = (count: number) => {
    const h = new Int32Array(LLMC_HEADER_INTS);
    h[0] = itemSize === 2 ? 20240520 : 20240801;
    h[1] = itemSize === 2 ? 1 : 7;
    h[2] = count;
    return new Uint8Array(h.buffer);
  };
  const close = async () => {
    if (!fh || !sink) return;
    await sink.flush();
    await fh.write(header(inFile), 0, LLMC_HEADER_INTS * 4, 0);
    await fh.close();
    fh = null;
    sink = null;
  };
  const openNext = async () => {
    await close();
    const name = nameOf(files.length);
    files.push(name);
    fh = await open(name, 'w');
    sink = new Sink(fh);
    await sink.write(header(0));
    inFile = 0;
  };
  try {
    await openNext();
    for await (const doc of readTokenizedDocuments(tokenShardsDir)) {
      const ids = new Int32Array(doc.ids.length + 1);
      ids[0] = eot;
      ids.set(doc.ids, 1);
      let at = 0;
      while (at < ids.length) {
        if (inFile >= shardTokens) await openNext();
        const take = Math.min(ids.length - at, shardTokens - inFile);
        if (inFile + take > 0x7fffffff) throw new ConfigError('shardTokens', shardTokens, 'at most 2^31 - 1 tokens per file (the header count is int32)');
        await sink!.write(tokenBytes(ids.subarray(at, at + take), itemSize));
        inFile += take;
        at += take;
      }
      tokens += ids.length;
      documents++;
      if (documents % 1024 === 0) options.onProgress?.({ documents, tokens });
    }
    await close();
  } catch (error) {
    await (fh as FileHandle | null)?.close().catch(() => undefined);
    throw error;
  }
  options.onProgress?.({ documents, tokens });
  return { files, documents, sequences: documents, tokens, itemSize };
}

import { open, readFile } from 'node:fs/promises';
import { MalformedInputError } from '@pretext/core';

/**
 * safetensors, per the format spec (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}` padded with spaces,
 * then the raw little-endian tensor bytes, offsets relative to the end of the header. Written by hand: the format
 * is 20 lines and the npm packages for it are browser-first or unmaintained.
 */
export type SafeTensorDType = 'F32' | 'I32' | 'U8' | 'I64' | 'F64' | 'F16' | 'BF16' | 'U32';

export interface NamedTensor {
  readonly dtype: 'F32' | 'I32' | 'U8';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

const BYTES: Record<SafeTensorDType, number> = { F32: 4, I32: 4, U8: 1, I64: 8, F64: 8, F16: 2, BF16: 2, U32: 4 };

/** Serialises tensors (sorted by name, as the reference implementation does) with optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor> | Record<string, NamedTensor>, metadata?: Record<string, string>): Buffer {
  const entries: [string, NamedTensor][] = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, NamedTensor>));
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new RangeError(`safetensors: ${name} has ${t.data.length} values but shape [${t.shape.join(', ')}]`);
    const bytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad so the data starts 8-byte aligned (the spec allows trailing spaces in the header).
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    // Typed arrays are little-endian on every platform Node runs on; copy their bytes as they are.
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    src.copy(out, at);
    at += src.length;
  }
  return out;
}

export interface DecodedSafetensors {
  readonly tensors: Map<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

/** Parses a safetensors buffer; `file` names it in errors. F32, I32 and U8 tensors only. */
export function decodeSafetensors(buffer: Buffer, file = '<buffer>'): DecodedSafetensors {
  if (buffer.length < 8) throw new MalformedInputError(file, 0, 'safetensors file shorter than its 8-byte header length');
  const n = Number(buffer.readBigUInt64LE(0));
  if (n > buffer.length - 8) throw new MalformedInputError(file, 0, `safetensors header length ${n} runs past the end of the file`);
  let header: Record<string, { dtype: SafeTensorDType; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw new MalformedInputError(file, 8, 'safetensors header is not valid JSON');
  }
  const base = 8 + n;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: SafeTensorDType; shape: number[]; data_offsets: [number, number] };
    const [begin, end] = data_offsets;
    if (!(begin >= 0 && end >= begin && base + end <= buffer.length)) throw new MalformedInputError(file, `tensor ${name}`, 'data offsets outside the file');
    const bytes = buffer.subarray(base + begin, base + end);
    // Copy into a fresh, aligned buffer: typed arrays need their byte offset to be a multiple of the element size.
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    let data: Float32Array | Int32Array | Uint8Array;
    if (dtype === 'F32') data = new Float32Array(copy.buffer);
    else if (dtype === 'I32') data = new Int32Array(copy.buffer);
    else if (dtype === 'U8') data = copy;
    else throw new MalformedInputError(file, `tensor ${name}`, `dtype ${dtype} is not supported (F32, I32, U8)`);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new MalformedInputError(file, `tensor ${name}`, 'byte size does not match its shape');
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

export async function readSafetensors(file: string): Promise<DecodedSafetensors> {
  return decodeSafetensors(await readFile(file), file);
}

/** Writes and fsyncs, so a checkpoint that was renamed into place is complete on disk. */
export async function writeSafetensors(file: string, tensors: ReadonlyMap<string, NamedTensor>, metadata?: Record<string, string>): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(encodeSafetensors(tensors, metadata));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

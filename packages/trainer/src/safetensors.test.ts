import { describe, expect, it } from 'vitest';
import { MalformedInputError } from '@pretext/core';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

describe('safetensors', () => {
  it('writes the spec layout: u64 LE header length, JSON header, aligned little-endian data', () => {
    const a = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
    const b = Int32Array.from([-1, 2, 300000]);
    const buf = encodeSafetensors({ 'layer.weight': { dtype: 'F32', shape: [2, 3], data: a }, ids: { dtype: 'I32', shape: [3], data: b } }, { format: 'pt' });
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    // Sorted by name: ids first.
    expect(header.ids).toEqual({ dtype: 'I32', shape: [3], data_offsets: [0, 12] });
    expect(header['layer.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [12, 36] });
    expect(buf.readInt32LE(8 + n + 8)).toBe(300000);
    expect(buf.readFloatLE(8 + n + 12 + 4)).toBe(-2);
    const back = decodeSafetensors(buf);
    expect([...back.tensors.get('layer.weight')!.data]).toEqual([...a]);
    expect([...back.tensors.get('ids')!.data]).toEqual([...b]);
    expect(back.metadata).toEqual({ format: 'pt' });
  });

  it('rejects truncated files with MalformedInputError', () => {
    const buf = encodeSafetensors({ x: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(buf.subarray(0, buf.length - 4), 'x.safetensors')).toThrow(MalformedInputError);
    expect(() => decodeSafetensors(buf.subarray(0, 4), 'x.safetensors')).toThrow(/x\.safetensors/);
  });
});

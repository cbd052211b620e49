import { isUtf8 } from 'node:buffer';
import { InvalidTextError } from '@pretext/core';

/** Byte offset of the first invalid UTF-8 sequence (only called once a file failed the fast check). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let n: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { n = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Legacy encodings a Project Gutenberg header may declare, mapped to WHATWG decoder labels. */
const DECLARED = /^Character set encoding:\s*(ISO[- ]?8859-1|ISO[- ]?Latin-1|Latin-1|Windows-1252|CP-?1252)\s*$/im;

/**
 * Decodes a text file. UTF-8 (with or without BOM) is the norm; a file that fails UTF-8 but whose Project Gutenberg
 * header declares ISO-8859-1/Windows-1252 is decoded as Windows-1252 (its superset); a UTF-16 BOM selects UTF-16.
 * Otherwise NUL bytes mean binary data.
 */
export function decodeText(bytes: Uint8Array, file: string): string {
  // A UTF-16 byte order mark (Windows "Unicode" text) says how to read the file; its NUL bytes are not binary.
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new InvalidTextError(file, nul, 'binary data (a NUL byte)');
  if (isUtf8(bytes)) return new TextDecoder('utf-8').decode(bytes);
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64 * 1024));
  if (DECLARED.test(head)) return new TextDecoder('windows-1252').decode(bytes);
  throw new InvalidTextError(file, firstInvalidUtf8(bytes));
}

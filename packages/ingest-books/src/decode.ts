import { isUtf8 } from 'node:buffer';
import { InvalidTextError, firstInvalidUtf8 } from '@pretext/core';

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

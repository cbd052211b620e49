/**
 * Byte offset of the first byte that breaks UTF-8 (a stray continuation byte, an overlong form, a surrogate, a
 * code point above U+10FFFF, a sequence cut short), or -1 when the bytes are valid UTF-8. Meant for the position
 * in an `InvalidTextError` once `isUtf8` from `node:buffer` (fast, native) has said no.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Continuation bytes after the lead: C0, C1 and F5-FF never lead (overlong or above U+10FFFF).
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= bytes.length) return i;
    // The second byte's narrower ranges exclude overlong forms (E0, F0), surrogates (ED) and > U+10FFFF (F4).
    const c1 = bytes[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    for (let k = 1; k <= n; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

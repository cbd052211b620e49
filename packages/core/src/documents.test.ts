import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { documentId } from './documents.js';

describe('documentId', () => {
  it('is the first 32 hex digits of sha256(source NUL text), the same from text or its UTF-8 bytes', () => {
    const text = 'Call me Ishmael — “Moby-Dick”, 1851';
    const expected = createHash('sha256').update(`books\0${text}`).digest('hex').slice(0, 32);
    expect(documentId('books', text)).toBe(expected);
    expect(documentId('books', text, new TextEncoder().encode(text))).toBe(expected);
    expect(documentId('wikipedia', text)).not.toBe(expected);
    expect(documentId('books', `${text}.`)).not.toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { WordSpans } from './scan.js';

const words = (text: string, s: WordSpans) => Array.from({ length: s.count }, (_, k) => text.slice(s.start[k], s.end[k]));

describe('WordSpans', () => {
  it('finds the words text.split(/\\s+/) finds, growing past its first buffer', () => {
    const text = ` a\u00a0bb\tccc\n\n${'w '.repeat(5000)}  end\u2003x `;
    const spans = new WordSpans(4).scan(text);
    expect(words(text, spans)).toEqual(text.trim().split(/\s+/));
  });

  it('copy() keeps a document\'s words while the scanner moves on to the next document', () => {
    const spans = new WordSpans();
    const first = 'the first document here';
    const kept = spans.scan(first).copy();
    spans.scan('another text with other words entirely');
    expect(kept.count).toBe(4);
    expect(kept.start.length).toBe(4);
    expect(words(first, kept)).toEqual(['the', 'first', 'document', 'here']);
    expect(words('', new WordSpans().scan('').copy())).toEqual([]);
  });
});

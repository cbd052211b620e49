import { Tokenizer as HfTokenizer } from 'tokenizers';
import type { Tokenizer } from '../src/index.js';

export { HfTokenizer };

/** Hugging Face's tokenizer for the same tokenizer.json object. */
export function oracleOf(tok: Tokenizer): HfTokenizer {
  return HfTokenizer.fromString(JSON.stringify(tok.toJSON()));
}

export async function hfIds(hf: HfTokenizer, text: string): Promise<number[]> {
  return (await hf.encode(text, null, { addSpecialTokens: false })).getIds();
}

/** Hugging Face offsets (in code points) converted to UTF-16 offsets, with ids. */
export async function hfOffsets(hf: HfTokenizer, text: string): Promise<{ ids: number[]; starts: number[]; ends: number[] }> {
  const e = await hf.encode(text, null, { addSpecialTokens: false });
  const unitOf: number[] = [];
  let u = 0;
  for (const ch of text) {
    unitOf.push(u);
    u += ch.length;
  }
  unitOf.push(u);
  const offs = e.getOffsets();
  return { ids: e.getIds(), starts: offs.map((o) => unitOf[o[0]!]!), ends: offs.map((o) => unitOf[o[1]!]!) };
}

/** The first index where two id lists differ, with context, for readable failures. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `differ at ${i}: ours ${Array.from(a).slice(i, i + 8).join(',')} vs hf ${Array.from(b).slice(i, i + 8).join(',')}`;
  }
  return a.length === b.length ? 'equal' : `lengths ${a.length} vs ${b.length}`;
}

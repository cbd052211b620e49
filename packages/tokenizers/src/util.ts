import type { SpecialTokens } from '@pretext/core';
import type { AddedToken } from './types.js';

/** A growable Int32Array. */
export class IntBuffer {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(x: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = x;
  }
  pushAll(xs: Int32Array): void {
    this.reserve(xs.length);
    this.data.set(xs, this.length);
    this.length += xs.length;
  }
  /** A copy of the contents (the buffer is reused). */
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

const NAMES: Record<keyof SpecialTokens, readonly string[]> = {
  pad: ['[PAD]', '<pad>', '<|pad|>', '<|padding|>', '<|endoftext|>'],
  eos: ['<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>', '<|im_end|>'],
  bos: ['<s>', '<bos>', '<|begin_of_text|>', '<|startoftext|>'],
  cls: ['[CLS]', '<cls>'],
  sep: ['[SEP]', '<sep>'],
  mask: ['[MASK]', '<mask>'],
  unk: ['[UNK]', '<unk>', '<|unk|>'],
};

/**
 * The special-token ids a vocabulary defines, found by their conventional names. `pad` falls back to
 * end-of-text (GPT-2 has no pad token), then to unk, then to 0, because objectives always need one.
 */
export function detectSpecialTokens(tokenToId: (t: string) => number | undefined, unkToken?: string | null): SpecialTokens {
  const find = (key: keyof SpecialTokens): number | undefined => {
    for (const name of NAMES[key]) {
      const id = tokenToId(name);
      if (id !== undefined) return id;
    }
    return undefined;
  };
  const eos = find('eos');
  const unk = (unkToken ? tokenToId(unkToken) : undefined) ?? find('unk');
  const out: { -readonly [K in keyof SpecialTokens]: SpecialTokens[K] } = { pad: find('pad') ?? eos ?? unk ?? 0 };
  if (eos !== undefined) out.eos = eos;
  const bos = find('bos');
  if (bos !== undefined) out.bos = bos;
  const cls = find('cls');
  if (cls !== undefined) out.cls = cls;
  const sep = find('sep');
  if (sep !== undefined) out.sep = sep;
  const mask = find('mask');
  if (mask !== undefined) out.mask = mask;
  if (unk !== undefined) out.unk = unk;
  return out;
}

/** Hugging Face's JSON form of an added token. */
export function addedTokenJSON(t: AddedToken): Record<string, unknown> {
  return {
    id: t.id,
    content: t.content,
    single_word: t.singleWord,
    lstrip: t.lstrip,
    rstrip: t.rstrip,
    normalized: t.normalized,
    special: t.special,
  };
}

/** A special token as Hugging Face's trainers add it (matched literally, no stripping). */
export function specialAdded(id: number, content: string): AddedToken {
  return { id, content, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

// ignoreBOM: a leading U+FEFF is text like any other (Hugging Face keeps it)
export const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
export const utf8EncoderInstance = new TextEncoder();

import { ConfigError, type DataContext, type Example, type TokenizedDocument } from '@pretext/core';

/** `[CLS]`/`[SEP]` ids, falling back to `bos`/`eos` (RoBERTa's `<s>`/`</s>`) for tokenizers without them. */
export function boundaryIds(ctx: DataContext, objective: string): { cls: number; sep: number } {
  const cls = ctx.special.cls ?? ctx.special.bos;
  const sep = ctx.special.sep ?? ctx.special.eos;
  if (cls === undefined) throw new ConfigError(`${objective}: special.cls`, undefined, 'a [CLS] (or bos) token id; use a tokenizer that defines one');
  if (sep === undefined) throw new ConfigError(`${objective}: special.sep`, undefined, 'a [SEP] (or eos) token id; use a tokenizer that defines one');
  return { cls, sep };
}

/** Fills one padded row, token by token or span by span, keeping its columns in step. */
class RowWriter {
  readonly ids: Int32Array;
  readonly attention: Uint8Array;
  readonly special: Uint8Array;
  readonly types: Int32Array;
  readonly wordStarts: Uint8Array | undefined;
  at = 0;
  constructor(seqLen: number, pad: number, withWordStarts: boolean) {
    this.ids = new Int32Array(seqLen).fill(pad);
    this.attention = new Uint8Array(seqLen);
    this.special = new Uint8Array(seqLen).fill(1);
    this.types = new Int32Array(seqLen);
    this.wordStarts = withWordStarts ? new Uint8Array(seqLen) : undefined;
  }
  token(id: number, isSpecial: boolean): void {
    this.ids[this.at] = id;
    this.attention[this.at] = 1;
    this.special[this.at] = isSpecial ? 1 : 0;
    if (this.wordStarts) this.wordStarts[this.at] = 1;
    this.at++;
  }
  span(doc: TokenizedDocument, from: number, to: number): void {
    this.ids.set(doc.ids.subarray(from, to), this.at);
    this.attention.fill(1, this.at, this.at + to - from);
    this.special.fill(0, this.at, this.at + to - from);
    if (this.wordStarts) {
      if (doc.wordStarts) this.wordStarts.set(doc.wordStarts.subarray(from, to), this.at);
      else this.wordStarts.fill(1, this.at, this.at + to - from);
    }
    this.at += to - from;
  }
  example(): Example {
    const e: Example = {
      input_ids: this.ids,
      attention_mask: this.attention,
      token_type_ids: this.types,
      special_tokens_mask: this.special,
    };
    if (this.wordStarts) e.word_starts = this.wordStarts;
    return e;
  }
}

/**
 * MLM's examples when it trains alone: single segments `[CLS] tokens [SEP]`, padded to `seqLen`.
 * `document`: each document is cut into consecutive pieces of `seqLen − 2` tokens, so a row never mixes
 * documents and only a document's last row is padded. `stream` (RoBERTa's FULL-SENTENCES): rows run on across
 * documents with `[SEP]` between them, so only the very last row is padded.
 */
export async function* singleSegmentExamples(
  docs: AsyncIterable<TokenizedDocument>,
  ctx: DataContext,
  packing: 'document' | 'stream',
): AsyncGenerator<Example> {
  const { cls, sep } = boundaryIds(ctx, 'mlm');
  const body = ctx.seqLen - 2;
  if (body < 1) throw new ConfigError('seqLen', ctx.seqLen, 'at least 3 for [CLS] tokens [SEP]');
  let row: RowWriter | undefined;
  let withWordStarts: boolean | undefined;
  const open = () => {
    const r = new RowWriter(ctx.seqLen, ctx.special.pad, withWordStarts === true);
    r.token(cls, true);
    return r;
  };
  const close = (r: RowWriter): Example => {
    r.token(sep, true);
    return r.example();
  };
  for await (const doc of docs) {
    if (doc.ids.length === 0) continue;
    // The first document decides whether rows carry word starts, so every row has the same columns.
    withWordStarts ??= doc.wordStarts !== undefined;
    if (packing === 'document') {
      for (let from = 0; from < doc.ids.length; from += body) {
        const r = open();
        r.span(doc, from, Math.min(from + body, doc.ids.length));
        yield close(r);
      }
      continue;
    }
    let from = 0;
    if (row && row.at > 1) {
      // A separator between documents; when it would be the row's last body token, the row closes instead.
      if (row.at < ctx.seqLen - 2) row.token(sep, true);
      else {
        yield close(row);
        row = undefined;
      }
    }
    while (from < doc.ids.length) {
      row ??= open();
      const take = Math.min(ctx.seqLen - 1 - row.at, doc.ids.length - from);
      row.span(doc, from, from + take);
      from += take;
      if (row.at >= ctx.seqLen - 1) {
        yield close(row);
        row = undefined;
      }
    }
  }
  if (row && row.at > 1) yield close(row);
}

import { TokenizerError } from '@pretext/core';

/** One item of a Hugging Face TemplateProcessing template. */
export type TemplatePiece = { kind: 'special'; ids: readonly number[]; typeId: number } | { kind: 'sequence'; which: 'A' | 'B'; typeId: number };

/** Post-processing templates for one sequence and for a pair (`[CLS] $A [SEP]`, `[CLS] $A [SEP] $B:1 [SEP]:1`). */
export interface Template {
  single: readonly TemplatePiece[];
  pair: readonly TemplatePiece[];
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** BERT's template: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with B's part of type 1. */
export function bertTemplate(cls: number, sep: number): Template {
  return {
    single: [
      { kind: 'special', ids: [cls], typeId: 0 },
      { kind: 'sequence', which: 'A', typeId: 0 },
      { kind: 'special', ids: [sep], typeId: 0 },
    ],
    pair: [
      { kind: 'special', ids: [cls], typeId: 0 },
      { kind: 'sequence', which: 'A', typeId: 0 },
      { kind: 'special', ids: [sep], typeId: 0 },
      { kind: 'sequence', which: 'B', typeId: 1 },
      { kind: 'special', ids: [sep], typeId: 1 },
    ],
  };
}

/** No special tokens: A, or A then B with type 1 (Hugging Face's default and ByteLevel post-processing). */
export const PLAIN_TEMPLATE: Template = {
  single: [{ kind: 'sequence', which: 'A', typeId: 0 }],
  pair: [
    { kind: 'sequence', which: 'A', typeId: 0 },
    { kind: 'sequence', which: 'B', typeId: 1 },
  ],
};

/** The template of a Hugging Face `post_processor` (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, null). */
export function templateFromJSON(pp: unknown, tokenToId: (t: string) => number | undefined, file: string): Template {
  if (pp === null || pp === undefined || (isObject(pp) && pp.type === 'ByteLevel')) return PLAIN_TEMPLATE;
  if (!isObject(pp)) throw new TokenizerError(file, 'post_processor must be an object or null');
  const pairOf = (x: unknown, name: string): number => {
    if (Array.isArray(x) && typeof x[1] === 'number') return x[1];
    throw new TokenizerError(file, `post_processor.${name} must be [token, id]`);
  };
  if (pp.type === 'BertProcessing') return bertTemplate(pairOf(pp.cls, 'cls'), pairOf(pp.sep, 'sep'));
  if (pp.type === 'RobertaProcessing') {
    const cls = pairOf(pp.cls, 'cls');
    const sep = pairOf(pp.sep, 'sep');
    return {
      single: bertTemplate(cls, sep).single,
      pair: [
        { kind: 'special', ids: [cls], typeId: 0 },
        { kind: 'sequence', which: 'A', typeId: 0 },
        { kind: 'special', ids: [sep], typeId: 0 },
        { kind: 'special', ids: [sep], typeId: 0 },
        { kind: 'sequence', which: 'B', typeId: 0 },
        { kind: 'special', ids: [sep], typeId: 0 },
      ],
    };
  }
  if (pp.type === 'Sequence' && Array.isArray(pp.processors)) {
    const templates = (pp.processors as unknown[]).filter((p) => !(isObject(p) && p.type === 'ByteLevel'));
    if (templates.length <= 1) return templateFromJSON(templates[0] ?? null, tokenToId, file);
  }
  if (pp.type === 'TemplateProcessing') {
    const specials = isObject(pp.special_tokens) ? pp.special_tokens : {};
    const parse = (list: unknown, name: string): TemplatePiece[] => {
      if (!Array.isArray(list)) throw new TokenizerError(file, `post_processor.${name} must be a list`);
      return list.map((item): TemplatePiece => {
        if (isObject(item) && isObject(item.SpecialToken)) {
          const key = String(item.SpecialToken.id);
          const entry = specials[key];
          const ids = isObject(entry) && Array.isArray(entry.ids) ? (entry.ids as number[]) : [tokenToId(key)];
          if (ids.some((x) => typeof x !== 'number')) throw new TokenizerError(file, `post_processor special token ${JSON.stringify(key)} has no id`);
          return { kind: 'special', ids: ids as number[], typeId: Number(item.SpecialToken.type_id ?? 0) };
        }
        if (isObject(item) && isObject(item.Sequence)) {
          return { kind: 'sequence', which: item.Sequence.id === 'B' ? 'B' : 'A', typeId: Number(item.Sequence.type_id ?? 0) };
        }
        throw new TokenizerError(file, `post_processor.${name} item ${JSON.stringify(item)} is neither SpecialToken nor Sequence`);
      });
    };
    return { single: parse(pp.single, 'single'), pair: parse(pp.pair, 'pair') };
  }
  throw new TokenizerError(file, `post_processor type ${JSON.stringify(pp.type)} is not supported`);
}

/** Hugging Face's JSON for a template. */
export function templateToJSON(t: Template, idToToken: (id: number) => string | undefined): Record<string, unknown> {
  const specials: Record<string, unknown> = {};
  const item = (p: TemplatePiece) => {
    if (p.kind === 'sequence') return { Sequence: { id: p.which, type_id: p.typeId } };
    const name = p.ids.map((i) => idToToken(i) ?? String(i)).join('');
    specials[name] = { id: name, ids: [...p.ids], tokens: p.ids.map((i) => idToToken(i) ?? String(i)) };
    return { SpecialToken: { id: name, type_id: p.typeId } };
  };
  const single = t.single.map(item);
  const pair = t.pair.map(item);
  return { type: 'TemplateProcessing', single, pair, special_tokens: specials };
}

/** Applies a template to encoded segments. */
export function applyTemplate(t: Template, a: Int32Array, b?: Int32Array): { ids: Int32Array; typeIds: Int32Array; specialTokensMask: Uint8Array } {
  const pieces = b === undefined ? t.single : t.pair;
  let n = 0;
  for (const p of pieces) n += p.kind === 'special' ? p.ids.length : p.which === 'A' ? a.length : (b?.length ?? 0);
  const ids = new Int32Array(n);
  const typeIds = new Int32Array(n);
  const mask = new Uint8Array(n);
  let k = 0;
  for (const p of pieces) {
    if (p.kind === 'special') {
      for (const id of p.ids) {
        ids[k] = id;
        typeIds[k] = p.typeId;
        mask[k++] = 1;
      }
    } else {
      const seq = p.which === 'A' ? a : (b ?? new Int32Array(0));
      ids.set(seq, k);
      typeIds.fill(p.typeId, k, k + seq.length);
      k += seq.length;
    }
  }
  return { ids, typeIds, specialTokensMask: mask };
}

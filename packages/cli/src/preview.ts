import { IGNORE_INDEX, Rng, composeObjectives, type Example, type ObjectiveSpec, type TokenizedDocument } from '@pretext/core';
import { readTokenizedDocuments } from '@pretext/shards';
import { loadTokenizer, type Tokenizer } from '@pretext/tokenizers';

export interface PreviewOptions {
  objectives: ObjectiveSpec[];
  data: string;
  tokenizer: string;
  n: number;
  seqLen: number;
  seed: number;
  json?: boolean;
}

/** Columns printed under their Hugging Face names in `--json`; others (word starts, masks) are internal. */
const JSON_COLUMNS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'labels'];

/**
 * `pretext preview`: the first N training examples the objectives build, as a person reads them or as JSON lines
 * with Hugging Face field names. Uses the same seeded example builder as training.
 */
export async function preview(options: PreviewOptions, write: (line: string) => void): Promise<number> {
  const tokenizer = await loadTokenizer(options.tokenizer);
  const composition = composeObjectives(options.objectives);
  const ctx = { seqLen: options.seqLen, vocabSize: tokenizer.vocabSize, special: tokenizer.special, rng: new Rng(options.seed) };
  const docs: AsyncIterable<TokenizedDocument> = readTokenizedDocuments(options.data);
  let count = 0;
  for await (const example of composition.examples(docs, ctx)) {
    if (options.json) write(JSON.stringify(toJson(example)));
    else for (const line of render(example, tokenizer, count)) write(line);
    if (++count >= options.n) break;
  }
  return count;
}

function toJson(example: Example): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const [key, value] of Object.entries(example)) {
    if (value === undefined) continue;
    if (typeof value === 'number') out[key] = value;
    else if (JSON_COLUMNS.includes(key)) out[key] = Array.from(value);
  }
  return out;
}

/**
 * One example for reading: segments separated, padding counted not shown, predicted tokens marked
 * `⟦shown→original⟧`, row labels (next-sentence, sentence-order, …) listed under their column names.
 */
export function render(example: Example, tokenizer: Tokenizer, index: number): string[] {
  const ids = example.input_ids;
  const mask = example.attention_mask;
  const labels = example.labels instanceof Int32Array ? example.labels : undefined;
  const types = example.token_type_ids;
  const piece = (id: number) => (tokenizer.isSpecial(id) ? (tokenizer.idToToken(id) ?? `<${id}>`) : tokenizer.decode([id]));
  let real = 0;
  for (let i = 0; i < mask.length; i++) real += mask[i]!;
  // Next-token labels (the inputs shifted by one) are every position's target: say so instead of marking all.
  let shifted = labels !== undefined && real > 1;
  if (labels) for (let i = 0; i + 1 < real && shifted; i++) shifted = labels[i] === ids[i + 1];
  const segments: string[] = [];
  let text = '';
  let segment = types?.[0] ?? 0;
  let predicted = 0;
  let replaced = 0;
  for (let i = 0; i < ids.length; i++) {
    if (!mask[i]) continue;
    if (types && types[i] !== segment) {
      segments.push(text);
      text = '';
      segment = types[i]!;
    }
    const id = ids[i]!;
    const label = labels?.[i] ?? IGNORE_INDEX;
    if (!shifted && label !== IGNORE_INDEX) {
      predicted++;
      if (label !== id) replaced++;
      text += label === id ? `⟦=${piece(label)}⟧` : `⟦${piece(id).trim()}→${piece(label)}⟧`;
    } else {
      text += piece(id);
    }
  }
  segments.push(text);
  const lines = [`── example ${index + 1} · ${real} tokens${ids.length > real ? ` + ${ids.length - real} padding` : ''}`];
  segments.forEach((s, k) => lines.push(`${segments.length > 1 ? `  segment ${k === 0 ? 'A' : 'B'}: ` : '  '}${s.replace(/\n/g, '⏎')}`));
  if (shifted) lines.push('  labels: next token at every position (inputs shifted by one)');
  else if (labels) lines.push(`  labels: ${predicted} predicted (${replaced} shown as another token, ${predicted - replaced} unchanged); ⟦shown→original⟧`);
  for (const [key, value] of Object.entries(example)) if (typeof value === 'number') lines.push(`  ${key}: ${value}`);
  return lines;
}

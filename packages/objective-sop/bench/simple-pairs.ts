/**
 * The simple next-sentence task shared by bench/nsp-simple.ts and bench/nsp-parity.ts (and mirrored in
 * nsp-simple-torch.py): documents of one random topic out of `topics`, 8 sentences of 6–10 ids drawn from the topic's
 * `perTopic` ids (ids from 5, after the fixture's special tokens); a pair's A is a document's first k sentences
 * (k uniform in 1..7), B the rest or, half the time, a random document's sentences from a random start (label 1),
 * the longer side trimmed until `[CLS] A [SEP] B [SEP]` fits `seqLen`.
 */
import type { Example, Rng } from '@pretext/core';

export const SIMPLE_TOPICS = 20;
export const SIMPLE_PER_TOPIC = 30;
/** The vocabulary of the simple task: the special tokens and every topic's ids. */
export const SIMPLE_VOCAB = 5 + SIMPLE_TOPICS * SIMPLE_PER_TOPIC;

/** `count` documents, each as its sentences of ids. */
export function simpleDocuments(rng: Rng, count = 2000): number[][][] {
  return Array.from({ length: count }, () => {
    const t = rng.int(SIMPLE_TOPICS);
    return Array.from({ length: 8 }, () => Array.from({ length: rng.randint(6, 10) }, () => 5 + t * SIMPLE_PER_TOPIC + rng.int(SIMPLE_PER_TOPIC)));
  });
}

/** One pair from document `d`, a random B drawn from `all`. */
export function simplePair(d: number[][], all: readonly number[][][], rng: Rng, seqLen: number): Example {
  const k = 1 + rng.int(7);
  const a = d.slice(0, k).flat();
  const negative = rng.float() < 0.5;
  const b = negative ? all[rng.int(all.length)]!.slice(rng.int(8)).flat() : d.slice(k).flat();
  while (a.length + b.length > seqLen - 3) (a.length > b.length ? a : b).pop();
  const ids = [2, ...a, 3, ...b, 3];
  const input_ids = new Int32Array(seqLen);
  input_ids.set(ids);
  const attention_mask = new Uint8Array(seqLen).fill(1, 0, ids.length);
  const token_type_ids = new Int32Array(seqLen).fill(1, a.length + 2, ids.length);
  const special_tokens_mask = new Uint8Array(seqLen);
  for (const i of [0, a.length + 1, ids.length - 1]) special_tokens_mask[i] = 1;
  return { input_ids, attention_mask, token_type_ids, special_tokens_mask, word_starts: new Uint8Array(seqLen), next_sentence_label: negative ? 1 : 0 };
}

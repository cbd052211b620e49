import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputNotFoundError, TokenizerError } from '@pretext/core';
import { BpeTokenizer } from './bpe.js';
import { GPT2_PATTERN } from './pretokenize.js';
import type { AddedToken, Tokenizer } from './types.js';
import { templateFromJSON } from './template.js';
import { WordPieceTokenizer, type WordPieceSpec } from './wordpiece.js';

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Loads a tokenizer: a Hugging Face `tokenizer.json`, a GPT-2 `vocab.json` (with `merges.txt` beside it), a BERT
 * `vocab.txt`, or a folder holding one of these. Malformed files give a `TokenizerError { file, reason }`.
 */
export async function loadTokenizer(file: string): Promise<Tokenizer> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new InputNotFoundError(file);
  }
  if (info.isDirectory()) {
    for (const name of ['tokenizer.json', 'vocab.json', 'vocab.txt']) {
      const candidate = path.join(file, name);
      if (await exists(candidate)) return loadTokenizer(candidate);
    }
    throw new TokenizerError(file, 'holds no tokenizer.json, vocab.json + merges.txt or vocab.txt; point at a tokenizer file');
  }
  const base = path.basename(file);
  if (base.endsWith('.txt') && !base.startsWith('merges')) {
    return WordPieceTokenizer.fromVocabText(await readText(file), { file });
  }
  if (base.startsWith('merges') && base.endsWith('.txt')) {
    const vocabFile = path.join(path.dirname(file), 'vocab.json');
    return fromVocabAndMerges(await readText(vocabFile), await readText(file), vocabFile, file);
  }
  const text = await readText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(file, `is not valid JSON (${(error as Error).message}); point at a tokenizer.json, vocab.json or vocab.txt`);
  }
  if (isObject(json) && isObject(json.model)) return tokenizerFromJSON(json, file);
  if (isObject(json)) {
    const mergesFile = path.join(path.dirname(file), 'merges.txt');
    if (!(await exists(mergesFile))) {
      throw new TokenizerError(file, `looks like a vocab.json but ${mergesFile} is missing; put merges.txt beside it`);
    }
    return fromVocabAndMerges(text, await readText(mergesFile), file, mergesFile);
  }
  throw new TokenizerError(file, 'is neither a tokenizer.json nor a vocab.json; point at a Hugging Face tokenizer file');
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputNotFoundError(file);
    throw new TokenizerError(file, `cannot be read (${(error as Error).message})`);
  }
}

function parseVocab(value: unknown, file: string): Map<string, number> {
  if (!isObject(value)) throw new TokenizerError(file, 'model.vocab must be an object of token → id');
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(value)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new TokenizerError(file, `vocabulary id of ${JSON.stringify(token)} is ${JSON.stringify(id)}, not a non-negative integer`);
    vocab.set(token, id as number);
  }
  return vocab;
}

function parseMerges(value: unknown, file: string): [string, string][] {
  if (!Array.isArray(value)) throw new TokenizerError(file, 'model.merges must be a list');
  return value.map((m, i) => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2) throw new TokenizerError(file, `merge ${i + 1} ${JSON.stringify(m)} is not two tokens separated by one space`);
      return [parts[0]!, parts[1]!];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    throw new TokenizerError(file, `merge ${i + 1} is ${JSON.stringify(m)}, not "a b" or ["a", "b"]`);
  });
}

function parseAdded(value: unknown, file: string): AddedToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TokenizerError(file, 'added_tokens must be a list');
  return value.map((t, i) => {
    if (!isObject(t) || typeof t.content !== 'string' || !Number.isInteger(t.id)) {
      throw new TokenizerError(file, `added_tokens[${i}] needs an integer id and a string content`);
    }
    return {
      id: t.id as number,
      content: t.content,
      singleWord: t.single_word === true,
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
      normalized: t.normalized === true,
      special: t.special === true,
    };
  });
}

/** The byte-level part of a pre-tokenizer: the split pattern and add_prefix_space. */
function byteLevelPattern(pre: unknown, file: string): { pattern: string; addPrefixSpace: boolean } {
  if (isObject(pre) && pre.type === 'ByteLevel') {
    if (pre.use_regex === false) throw new TokenizerError(file, 'a ByteLevel pre-tokenizer without a regex is not supported; add a Split pre-tokenizer');
    return { pattern: GPT2_PATTERN, addPrefixSpace: pre.add_prefix_space === true };
  }
  if (isObject(pre) && pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
    const parts = pre.pretokenizers as unknown[];
    const split = parts.find((p) => isObject(p) && p.type === 'Split') as Json | undefined;
    const bl = parts.find((p) => isObject(p) && p.type === 'ByteLevel') as Json | undefined;
    const others = parts.filter((p) => p !== split && p !== bl);
    if (bl && split && others.length === 0) {
      const pattern = isObject(split.pattern) ? (split.pattern.Regex ?? split.pattern.String) : undefined;
      if (typeof pattern !== 'string' || split.behavior !== 'Isolated' || split.invert === true) {
        throw new TokenizerError(file, 'only Split pre-tokenizers with a pattern and behavior "Isolated" are supported');
      }
      if (bl.use_regex === true) throw new TokenizerError(file, 'a Split pattern followed by a ByteLevel regex split is not supported');
      return { pattern: typeof split.pattern === 'object' && 'String' in (split.pattern as Json) ? escapeRegex(pattern) : pattern, addPrefixSpace: bl.add_prefix_space === true };
    }
    if (bl && !split && others.length === 0) return byteLevelPattern(bl, file);
  }
  throw new TokenizerError(file, `BPE pre-tokenizer ${JSON.stringify(pre)?.slice(0, 120)} is not supported; only byte-level BPE (GPT-2 style) is`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A tokenizer from a parsed Hugging Face `tokenizer.json` object. */
export function tokenizerFromJSON(json: unknown, file = '<tokenizer.json>'): Tokenizer {
  if (!isObject(json) || !isObject(json.model)) throw new TokenizerError(file, 'has no "model" object; it is not a Hugging Face tokenizer.json');
  const model = json.model;
  const addedTokens = parseAdded(json.added_tokens, file);
  const type = model.type ?? (model.merges !== undefined ? 'BPE' : model.continuing_subword_prefix !== undefined ? 'WordPiece' : undefined);
  if (type === 'BPE') {
    if (json.normalizer !== null && json.normalizer !== undefined) {
      throw new TokenizerError(file, `BPE with a normalizer (${JSON.stringify((json.normalizer as Json).type)}) is not supported; only byte-level BPE is`);
    }
    if (model.continuing_subword_prefix || model.end_of_word_suffix || model.byte_fallback === true) {
      throw new TokenizerError(file, 'BPE with a subword prefix, word suffix or byte fallback is not supported; only byte-level BPE is');
    }
    const { pattern, addPrefixSpace } = byteLevelPattern(json.pre_tokenizer, file);
    const vocab = parseVocab(model.vocab, file);
    const lookup = (t: string) => vocab.get(t) ?? addedTokens.find((a) => a.content === t)?.id;
    return new BpeTokenizer({
      vocab,
      template: templateFromJSON(json.post_processor, lookup, file),
      merges: parseMerges(model.merges, file),
      addedTokens,
      pattern,
      addPrefixSpace,
      ignoreMerges: model.ignore_merges === true,
      unkToken: typeof model.unk_token === 'string' ? model.unk_token : null,
      file,
      extra: { post_processor: json.post_processor ?? null, decoder: json.decoder ?? null, truncation: json.truncation ?? null, padding: json.padding ?? null },
    });
  }
  if (type === 'WordPiece') {
    const vocab = parseVocab(model.vocab, file);
    const { templateJSON, ...pipeline } = WordPieceTokenizer.pipelineFromJSON(json, file);
    const lookup = (t: string) => vocab.get(t) ?? addedTokens.find((a) => a.content === t)?.id;
    const spec: WordPieceSpec = {
      vocab,
      unkToken: typeof model.unk_token === 'string' ? model.unk_token : '[UNK]',
      prefix: typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##',
      maxInputCharsPerWord: Number.isInteger(model.max_input_chars_per_word) ? (model.max_input_chars_per_word as number) : 100,
      addedTokens,
      file,
      ...pipeline,
      template: templateFromJSON(templateJSON, lookup, file),
    };
    return new WordPieceTokenizer(spec);
  }
  throw new TokenizerError(file, `model type ${JSON.stringify(type)} is not supported; use a BPE (byte-level) or WordPiece tokenizer`);
}

/** A GPT-2 tokenizer from `vocab.json` and `merges.txt` contents. */
export function fromVocabAndMerges(vocabJson: string, mergesTxt: string, vocabFile = 'vocab.json', mergesFile = 'merges.txt'): BpeTokenizer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(vocabJson);
  } catch (error) {
    throw new TokenizerError(vocabFile, `is not valid JSON (${(error as Error).message})`);
  }
  const vocab = parseVocab(parsed, vocabFile);
  const merges: [string, string][] = [];
  const lines = mergesTxt.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0 || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2) throw new TokenizerError(mergesFile, `line ${i + 1} ${JSON.stringify(line.slice(0, 40))} is not two tokens separated by one space`);
    merges.push([parts[0]!, parts[1]!]);
  });
  // vocab.json carries <|endoftext|> in the vocabulary; Hugging Face's GPT-2 files make it an added special token
  const eos = vocab.get('<|endoftext|>');
  const addedTokens: AddedToken[] =
    eos === undefined ? [] : [{ id: eos, content: '<|endoftext|>', singleWord: false, lstrip: false, rstrip: false, normalized: true, special: true }];
  return new BpeTokenizer({ vocab, merges, addedTokens, pattern: GPT2_PATTERN, file: vocabFile, unkToken: eos === undefined ? null : '<|endoftext|>' });
}

import { mkdtempSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputNotFoundError, TokenizerError } from '@pretext/core';
import { describe, expect, it } from 'vitest';
import { books, corpora, GPT2_JSON } from '../test/corpora.js';
import { firstDiff } from '../test/oracle.js';
import { loadTokenizer, BpeTokenizer } from './index.js';

const dir = () => mkdtempSync(path.join(tmpdir(), 'pretext-tok-'));

async function failure(file: string): Promise<TokenizerError> {
  try {
    await loadTokenizer(file);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenizerError);
    const e = error as TokenizerError;
    expect(e.file).toBe(file);
    expect(e.message.startsWith(file + ': ')).toBe(true);
    expect(e.message.includes('\n')).toBe(false);
    return e;
  }
  throw new Error(`${file} loaded but should have failed`);
}

describe('loadTokenizer', () => {
  it('loads GPT-2 vocab.json + merges.txt to the same tokenizer as tokenizer.json', async () => {
    const a = await loadTokenizer(GPT2_JSON());
    const b = await loadTokenizer(corpora('tokenizers/gpt2/vocab.json'));
    const c = await loadTokenizer(corpora('tokenizers/gpt2/merges.txt'));
    expect(b).toBeInstanceOf(BpeTokenizer);
    expect(b.vocabSize).toBe(50257);
    const text = books()[0]!.text;
    expect(firstDiff(b.encode(text), a.encode(text))).toBe('equal');
    expect(firstDiff(c.encode(text), a.encode(text))).toBe('equal');
    expect(b.special).toEqual(a.special);
    // from vocab.json the end-of-text token is a plain special token (the Hub's gpt2 flags), matched anywhere
    expect(Array.from(b.encode('a<|endoftext|>b'))).toEqual([64, 50256, 65]);
  });

  it('reads merges in the older "a b" string form', async () => {
    const json = JSON.parse(readFileSync(GPT2_JSON(), 'utf8'));
    json.model.merges = json.model.merges.map((m: string[]) => m.join(' '));
    const f = path.join(dir(), 'tokenizer.json');
    writeFileSync(f, JSON.stringify(json));
    const a = await loadTokenizer(f);
    const b = await loadTokenizer(GPT2_JSON());
    const text = books()[2]!.text;
    expect(firstDiff(a.encode(text), b.encode(text))).toBe('equal');
  });

  it('loads a folder holding tokenizer.json', async () => {
    const t = await loadTokenizer(path.dirname(GPT2_JSON()));
    expect(t.kind).toBe('bpe');
  });

  it('saves and reloads a tokenizer.json that keeps the ids', async () => {
    const a = await loadTokenizer(GPT2_JSON());
    const file = path.join(dir(), 'tokenizer.json');
    await a.save(file);
    const b = await loadTokenizer(file);
    const text = books()[1]!.text.slice(0, 50_000);
    expect(firstDiff(b.encode(text), a.encode(text))).toBe('equal');
    const ref = JSON.parse(readFileSync(GPT2_JSON(), 'utf8'));
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.model.vocab).toEqual(ref.model.vocab);
    expect(saved.model.merges).toEqual(ref.model.merges);
    expect(saved.added_tokens).toEqual(ref.added_tokens);
  });

  it('reports a missing path as InputNotFoundError', async () => {
    await expect(loadTokenizer('/no/such/tokenizer.json')).rejects.toThrow(InputNotFoundError);
  });

  it('reports malformed files as TokenizerError { file, reason } with a one-line message', async () => {
    const d = dir();
    const write = (name: string, content: string) => {
      const f = path.join(d, name);
      writeFileSync(f, content);
      return f;
    };
    const good = JSON.parse(readFileSync(GPT2_JSON(), 'utf8'));
    expect((await failure(write('a.json', '{"model": {'))).reason).toMatch(/not valid JSON/);
    expect((await failure(write('b.json', '[1, 2]'))).reason).toMatch(/neither a tokenizer.json nor a vocab.json/);
    expect((await failure(write('c.json', JSON.stringify({ ...good, model: { ...good.model, type: 'Unigram' } })))).reason).toMatch(/model type "Unigram" is not supported/);
    expect((await failure(write('d.json', JSON.stringify({ ...good, model: { ...good.model, merges: [['Ġ', 'zzzq']] } })))).reason).toMatch(/merge 1 .* not in the vocabulary/);
    expect((await failure(write('e.json', JSON.stringify({ ...good, model: { ...good.model, merges: ['a b c'] } })))).reason).toMatch(/merge 1/);
    expect((await failure(write('f.json', JSON.stringify({ ...good, model: { ...good.model, vocab: { a: -1 } } })))).reason).toMatch(/not a non-negative integer/);
    expect((await failure(write('g.json', JSON.stringify({ ...good, pre_tokenizer: { type: 'Metaspace' } })))).reason).toMatch(/pre-tokenizer/);
    expect((await failure(write('h.json', JSON.stringify({ ...good, added_tokens: [{ content: 5 }] })))).reason).toMatch(/added_tokens\[0\]/);
    expect((await failure(write('vocab.txt', 'hello\nworld\n'))).reason).toMatch(/no \[UNK\] line/);
    const lone = path.join(dir(), 'vocab.json');
    copyFileSync(corpora('tokenizers/gpt2/vocab.json'), lone);
    expect((await failure(lone)).reason).toMatch(/merges.txt is missing/);
    const badMerges = path.join(path.dirname(lone), 'merges.txt');
    writeFileSync(badMerges, '#version: 0.2\nĠ t\nthree parts here\n');
    await expect(loadTokenizer(lone)).rejects.toThrow(/merges.txt: line 3/);
  });
});

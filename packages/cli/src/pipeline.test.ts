import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpus } from '@pretext/test-fixtures';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput, clearOutput, run as runCli, stderr, stdout } from './output.test-helper.js';

const book = corpus('books/gutenberg/markovify/sherlock.txt');
const book2 = corpus('books/gutenberg/ebookmaker/69030-0.txt');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pretext-pipeline-'));
  captureOutput();
});
afterAll(() => vi.restoreAllMocks());

/** One command of the chain, with only its own output captured. */
const run = (...args: string[]) => {
  clearOutput();
  return runCli(...args);
};

describe('the whole chain through the CLI on a real book', () => {
  it('ingest → tokenizer train → tokenize → preview → train → export', async () => {
    const docs = join(dir, 'docs');
    const tok = join(dir, 'tokenizer.json');
    const tokens = join(dir, 'tokens');
    expect(await run('ingest', 'books', book, book2, '--out', docs), stderr).toBe(0);
    const docManifest = JSON.parse(await readFile(join(docs, 'manifest.json'), 'utf8'));
    expect(docManifest.rows).toBe(2);

    expect(await run('tokenizer', 'train', '--type', 'bpe', '--vocab-size', '600', '--from', docs, '--out', tok), stderr).toBe(0);
    expect(JSON.parse(await readFile(tok, 'utf8')).model.type).toBe('BPE');

    expect(await run('tokenize', docs, '--tokenizer', tok, '--out', tokens), stderr).toBe(0);
    const tokManifest = JSON.parse(await readFile(join(tokens, 'manifest.json'), 'utf8'));
    expect(tokManifest.stats.tokens).toBeGreaterThan(50_000);
    // --resume over a finished folder keeps every shard and writes the same manifest
    expect(await run('tokenize', docs, '--tokenizer', tok, '--out', tokens, '--resume', '--workers', '0'), stderr).toBe(0);
    expect(JSON.parse(await readFile(join(tokens, 'manifest.json'), 'utf8'))).toEqual(tokManifest);

    // preview: JSON lines with Hugging Face field names; clm labels are the next tokens.
    expect(await run('preview', '--objective', 'clm', '--data', tokens, '--tokenizer', tok, '--n', '2', '--seq-len', '32', '--json'), stderr).toBe(0);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2);
    expect(rows[0].input_ids).toHaveLength(32);
    expect(rows[0].labels.slice(0, 31)).toEqual(rows[0].input_ids.slice(1));
    expect(await run('preview', '--objective', 'clm', '--data', tokens, '--tokenizer', tok, '--n', '1', '--seq-len', '32'), stderr).toBe(0);
    expect(stdout).toContain('next token at every position');

    const runDir = join(dir, 'run');
    const args = ['train', '--objective', 'clm', '--data', tokens, '--tokenizer', tok, '--model', 'gpt-nano', '--out', runDir];
    const small = ['--max-steps', '6', '--seq-len', '32', '--batch-size', '4', '--eval-every', '3', '--seed', '7', '--backend', 'wasm'];
    expect(await run(...args, ...small), stderr).toBe(0);
    const metrics = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const train = metrics.filter((m) => m.split === undefined);
    expect(train.at(-1).step).toBe(6);
    expect(metrics.some((m) => m.split === 'val')).toBe(true);
    expect(stdout).toContain('backend       wasm');
    // Token shards and clm carry origins, so batches are built on the loader thread, and the run says so.
    expect(stdout).toMatch(/^loader {8}loader thread \(objectives and data have origins: 4 batches built ahead\); steps waited \d+\.\d\d s for data/m);

    // The same seed again gives the same losses.
    const again = join(dir, 'run2');
    expect(await run('train', '--objective', 'clm', '--data', tokens, '--tokenizer', tok, '--model', 'gpt-nano', '--out', again, ...small), stderr).toBe(0);
    const metrics2 = (await readFile(join(again, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics2.map((m) => m.loss)).toEqual(metrics.map((m) => m.loss));

    // A checkpoint exported with Hugging Face's GPT-2 tensor names.
    const checkpoint = join(runDir, 'checkpoints', 'step-6');
    expect(await run('export', 'huggingface', checkpoint, '--out', join(dir, 'hf')), stderr).toBe(0);
    expect(existsSync(join(dir, 'hf/model.safetensors'))).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'hf/config.json'), 'utf8')).model_type).toBe('gpt2');

    // A YAML config: an unknown key is refused before any work, naming the key; a good one trains.
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, `objectives: [clm]\nmaxSteps: 2\nlearning_rate: 0.1\n`);
    expect(await run('train', '--config', bad, '--data', tokens, '--tokenizer', tok, '--out', join(dir, 'run-bad'))).toBe(1);
    expect(stderr).toContain('learning_rate');
    expect(existsSync(join(dir, 'run-bad'))).toBe(false);
    const good = join(dir, 'good.yaml');
    await writeFile(good, `objectives: [clm]\nmodel: gpt-nano\nmaxSteps: 2\nseqLen: 32\nbatchSize: 2\nbackend: wasm\ndata: ${tokens}\ntokenizer: ${tok}\nout: ${join(dir, 'run-yaml')}\n`);
    expect(await run('train', '--config', good), stderr).toBe(0);
    const yamlRows = (await readFile(join(dir, 'run-yaml/metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(yamlRows.filter((m) => m.split === undefined).at(-1).step).toBe(2);

    expect(await run('export', 'megatron', tokens, '--out', join(dir, 'mega/corpus')), stderr).toBe(0);
    expect(existsSync(join(dir, 'mega/corpus.idx'))).toBe(true);
    expect(existsSync(join(dir, 'mega/corpus.bin'))).toBe(true);
  });
});

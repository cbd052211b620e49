import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainWordPiece } from '@pretext/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutputOfEachTest, run, stderr, stdout } from './output.test-helper.js';

let dir: string;
let tokenizer: string;
let csv: string;

// Two kinds of real sentences (questions and statements from the same text), labelled by kind.
const TEXT = `It was a bright cold day in April, and the clocks were striking thirteen. Did you see the ship? The whale rose out of the sea. Where is the captain now? The harbour was quiet that night. Who rang the bell at dawn? The crew slept below deck. Why did the wind change? The sails were torn by the storm. How far is the island?`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pretext-cli-finetune-'));
  const sentences = TEXT.split(/(?<=[.?])\s+/);
  const tok = await trainWordPiece([TEXT], { vocabSize: 120, minFrequency: 1 });
  tokenizer = join(dir, 'tokenizer.json');
  await tok.save(tokenizer);
  const rows = Array.from({ length: 60 }, (_, i) => sentences[i % sentences.length]!);
  csv = join(dir, 'data.csv');
  await writeFile(csv, `text,label\n${rows.map((s) => `"${s}",${s.endsWith('?') ? 'question' : 'statement'}`).join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
captureOutputOfEachTest();

describe('pretext finetune', () => {
  it('fine-tunes from scratch on a CSV and writes metrics, history and the confusion matrix', async () => {
    const out = join(dir, 'run');
    const code = await run('finetune', '--from', 'scratch', '--model', 'bert-tiny', '--task', 'classify', '--data', csv, '--tokenizer', tokenizer, '--out', out, '--seq-len', '16', '--epochs', '1', '--batch-size', '16', '--lr', '1e-3');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^from {10}scratch \(random weights\)$/m);
    expect(stdout).toMatch(/^rows {10}42 train, 6 validation, 12 test$/m);
    expect(stdout).toMatch(/^test {10}accuracy 0\.\d{4}, macro F1 0\.\d{4}/m);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as { labelNames: string[]; test: { n: number } };
    expect(metrics.labelNames).toEqual(['question', 'statement']);
    expect(metrics.test.n).toBe(12);
    expect(await readFile(join(out, 'confusion.svg'), 'utf8')).toContain('<svg');
    expect((await readFile(join(out, 'history.jsonl'), 'utf8')).trim().split('\n').length).toBeGreaterThan(3);
  });

  it('a bad row exits 1 with one line naming the file and line', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'text,label\nfine,a\n"no label",\n');
    expect(await run('finetune', '--from', 'scratch', '--data', bad, '--tokenizer', tokenizer, '--out', join(dir, 'bad'))).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^pretext: ${bad.replace(/[.]/g, '\\.')}: "label" must be .* at line 3;`))]);
  });

  it.each([['finetune'], ['compare']])('%s --help exits 0 and documents the options', async (cmd) => {
    expect(await run(cmd, '--help')).toBe(0);
    expect(stdout).toContain(cmd === 'finetune' ? '--train-fraction' : '--quick');
  });
});

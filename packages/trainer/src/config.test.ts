import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InputNotFoundError, MalformedInputError } from '@pretext/core';
import { loadTrainConfig, validateTrainConfig } from './config.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pretext-config-'));
  dirs.push(dir);
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

describe('training config files', () => {
  it('reads YAML and JSON into the same validated options', async () => {
    const yaml = await file('run.yaml', 'objectives: [clm]\nmodel: gpt-demo\nseqLen: 128\nbatchSize: 16\nlearningRate: 0.001\nschedule: cosine\nsample:\n  prompt: "Call me Ishmael."\n');
    const json = await file('run.json', JSON.stringify({ objectives: ['clm'], model: 'gpt-demo', seqLen: 128, batchSize: 16, learningRate: 0.001, schedule: 'cosine', sample: { prompt: 'Call me Ishmael.' } }));
    const a = await loadTrainConfig(yaml);
    expect(a).toEqual(await loadTrainConfig(json));
    expect(a.learningRate).toBe(0.001);
    const custom = validateTrainConfig({ model: { architecture: 'encoder', dModel: 64, nLayers: 2, nHeads: 2, dFF: 128, maxPositions: 128, dropout: 0.1 }, objectives: [{ name: 'mlm', weight: 1 }, 'nsp'] });
    expect(typeof custom.model).toBe('object');
    expect(validateTrainConfig({ loader: 'main', loaderPrefetch: 8 })).toEqual({ loader: 'main', loaderPrefetch: 8 });
  });

  it('names the file and the key of an unknown option or a bad value', async () => {
    const typo = await file('run.yaml', 'batchsize: 16\n');
    await expect(loadTrainConfig(typo)).rejects.toThrow(/^run\.yaml: batchsize=16 is invalid: expected no such option \(known: objectives, .*batchSize/);
    await expect(loadTrainConfig(await file('bad.json', '{"batchSize": 0}'))).rejects.toThrow(/^bad\.json: batchSize=0 is invalid: expected .*>0/);
    await expect(loadTrainConfig(await file('bad.yaml', 'schedule: step\n'))).rejects.toThrow(/schedule="step" is invalid/);
    await expect(loadTrainConfig(await file('l.yaml', 'loader: gpu\n'))).rejects.toThrow(/^l\.yaml: loader="gpu" is invalid/);
    await expect(loadTrainConfig(await file('m.yaml', 'model:\n  architecture: decoder\n  dModel: 64\n  nLayer: 2\n'))).rejects.toBeInstanceOf(ConfigError);
    await expect(loadTrainConfig(await file('x.json', '{"seqLen": '))).rejects.toBeInstanceOf(MalformedInputError);
    await expect(loadTrainConfig('/nonexistent/run.yaml')).rejects.toBeInstanceOf(InputNotFoundError);
  });
});

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type Objective } from '@pretext/core';
import { loadObjectives } from './objectives.js';

const nameOf = (spec: Objective | readonly [Objective, number]) => (Array.isArray(spec) ? spec[0] : (spec as Objective)).name;

// A custom objective as a user would ship it: plain ESM, the factory as the only export.
const SOURCE = `export function shuffled(options = {}) {
  return { name: 'shuffled', contract: 1, architecture: 'encoder', writes: ['shuffled_labels'], options,
    examples: async function* () {}, head: () => ({ terms: { shuffled: 1 }, counts: () => ({ shuffled: 0 }), forward: () => ({ sums: {} }) }) };
}
`;

describe('loadObjectives', () => {
  it('maps first-party short names to their packages, with weights', async () => {
    const specs = await loadObjectives('mlm,nsp:0.5');
    expect(specs.map(nameOf)).toEqual(['mlm', 'nsp']);
    expect(Array.isArray(specs[1]) && specs[1][1]).toBe(0.5);
  });

  it('loads a custom objective from a file path and from a package folder (exports → import condition)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pretext-objective-'));
    await writeFile(join(dir, 'shuffled.js'), SOURCE);
    expect((await loadObjectives(join(dir, 'shuffled.js'))).map(nameOf)).toEqual(['shuffled']);
    const pkg = join(dir, 'pkg');
    await mkdir(join(pkg, 'dist'), { recursive: true });
    await writeFile(join(pkg, 'dist/index.js'), SOURCE);
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'shuffled', type: 'module', exports: { '.': { '@pretext/source': './src/index.ts', import: './dist/index.js' } } }));
    expect((await loadObjectives(pkg)).map(nameOf)).toEqual(['shuffled']);
  });

  it('names the entry and what to do when it cannot load', async () => {
    await expect(loadObjectives('definitely-not-an-objective-package')).rejects.toThrow(ConfigError);
    await expect(loadObjectives('./no/such/file.js')).rejects.toThrow(/no\/such\/file\.js/);
    await expect(loadObjectives('mlm:-1')).rejects.toThrow(/positive weight/);
    const dir = await mkdtemp(join(tmpdir(), 'pretext-objective-'));
    await writeFile(join(dir, 'not.js'), 'export const answer = 42;\n');
    await expect(loadObjectives(join(dir, 'not.js'))).rejects.toThrow(/objective factory/);
  });
});

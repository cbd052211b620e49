import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import objectiveGenerator, { addRootReference } from './generator.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
if (!existsSync(path.join(repoRoot, 'nx.json'))) throw new Error(`expected the workspace root (nx.json) at ${repoRoot}`);
const rootTsconfig = readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8');

/** A virtual workspace with this repository's root tsconfig.json and core/testing manifests. */
function workspace(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  tree.write('tsconfig.json', rootTsconfig);
  for (const p of ['packages/core/package.json', 'packages/objective-testing/package.json']) tree.write(p, readFileSync(path.join(repoRoot, p), 'utf8'));
  return tree;
}

const FILES = ['package.json', 'tsconfig.json', 'vitest.config.ts', 'README.md', 'src/index.ts', 'src/index.test.ts'];

describe('nx g @pretext/tools:objective', () => {
  it('scaffolds packages/objective-NAME: manifest, tsconfig with references, vitest config, factory, conformance test, README', async () => {
    const tree = workspace();
    await objectiveGenerator(tree, { name: 'span-corruption' });
    const dir = 'packages/objective-span-corruption';
    for (const f of FILES) expect(tree.exists(`${dir}/${f}`), f).toBe(true);
    const pkg = readJson(tree, `${dir}/package.json`);
    expect(pkg.name).toBe('@pretext/objective-span-corruption');
    expect(pkg.private).toBeUndefined();
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.exports['.']).toEqual({ '@pretext/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' });
    expect(pkg.peerDependencies).toEqual({ '@pretext/core': readJson(tree, 'packages/core/package.json').version });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@pretext/core', '@pretext/objective-testing', '@tensorflow/tfjs']);
    expect(pkg.scripts).toEqual({ build: 'tsc -b', test: 'vitest run' });
    const tsconfig = readJson(tree, `${dir}/tsconfig.json`);
    expect(tsconfig.extends).toBe('../../tsconfig.base.json');
    expect(tsconfig.references).toEqual([{ path: '../../packages/core' }]);
    expect(tree.read(`${dir}/vitest.config.ts`, 'utf-8')).toBe("export { default } from '../../vitest.shared.ts';\n");
    const index = tree.read(`${dir}/src/index.ts`, 'utf-8')!;
    expect(index).toMatch(/export function spanCorruption\(options: SpanCorruptionOptions = \{\}\): Objective/);
    expect(index).toMatch(/name: 'span-corruption'/);
    expect(index).toMatch(/origin: \{ module: '@pretext\/objective-span-corruption', factory: 'spanCorruption'/);
    expect(index).not.toMatch(/<%|%>/);
    // The CLI loads a module by path or package name and calls its only exported function.
    expect(index.match(/^export (async )?function/gm)).toEqual(['export function']);
    expect(tree.read(`${dir}/src/index.test.ts`, 'utf-8')).toMatch(/describeObjectiveConformance\(\{ tf: tf as unknown as TF, objectives: \(\) => \[spanCorruption\(\)\]/);
    expect(tree.read(`${dir}/README.md`, 'utf-8')).toMatch(/^# @pretext\/objective-span-corruption\n/);
  });

  it('adds one root tsconfig reference, keeping the file’s layout, and never twice', async () => {
    const tree = workspace();
    await objectiveGenerator(tree, { name: 'shuffle', directory: 'examples/shuffle' });
    const after = tree.read('tsconfig.json', 'utf-8')!;
    // The last reference gains a comma and the new one follows it; nothing else changes.
    const lines = rootTsconfig.split('\n');
    const last = lines.findLastIndex((line) => /\{ "path": /.test(line));
    expect(after).toBe([...lines.slice(0, last), `${lines[last]},`, '    { "path": "examples/shuffle" }', ...lines.slice(last + 1)].join('\n'));
    expect(readJson(tree, 'tsconfig.json').references.at(-1)).toEqual({ path: 'examples/shuffle' });
    addRootReference(tree, 'examples/shuffle');
    expect(tree.read('tsconfig.json', 'utf-8')).toBe(after);
  });

  it('makes a private @pretext/example-NAME outside packages/, with paths back to the root', async () => {
    const tree = workspace();
    await objectiveGenerator(tree, { name: 'shuffled-tokens', directory: 'examples/shuffled-tokens', description: 'Shuffled-token "detection".' });
    const pkg = readJson(tree, 'examples/shuffled-tokens/package.json');
    expect(pkg.name).toBe('@pretext/example-shuffled-tokens');
    expect(pkg.private).toBe(true);
    expect(pkg.description).toBe('Shuffled-token "detection".');
    expect(readJson(tree, 'examples/shuffled-tokens/tsconfig.json').extends).toBe('../../tsconfig.base.json');
    expect(tree.read('examples/shuffled-tokens/src/index.ts', 'utf-8')).toMatch(/export function shuffledTokens\(/);
  });

  it('refuses names that are not kebab case and folders that already hold files', async () => {
    const tree = workspace();
    await expect(objectiveGenerator(tree, { name: 'Span_Corruption' })).rejects.toThrow(/kebab case/);
    await expect(objectiveGenerator(tree, { name: 'x', directory: '../outside' })).rejects.toThrow(/inside the workspace/);
    tree.write('examples/taken/index.ts', 'export {};\n');
    await expect(objectiveGenerator(tree, { name: 'taken', directory: 'examples/taken' })).rejects.toThrow(/already exists/);
  });

  describe('on disk', () => {
    const scratch = path.join(repoRoot, 'tools/.tmp', `run-${process.pid}`);
    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    const dir = path.relative(repoRoot, path.join(scratch, 'objective-probe')).split(path.sep).join('/');

    it('writes a package that compiles against the workspace (tsc -b with its references)', async () => {
      const tree = workspace();
      await objectiveGenerator(tree, { name: 'probe', directory: dir });
      for (const change of tree.listChanges()) {
        if (!change.path.startsWith(`${dir}/`) || change.type === 'DELETE') continue;
        const target = path.join(repoRoot, change.path);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, change.content!);
      }
      const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
      const result = await run(process.execPath, [tsc, '-b', path.join(repoRoot, dir, 'tsconfig.json')], { cwd: repoRoot }).catch((e: { stdout: string; stderr: string }) => e);
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(existsSync(path.join(repoRoot, dir, 'dist/index.js'))).toBe(true);
      expect(readFileSync(path.join(repoRoot, dir, 'dist/index.d.ts'), 'utf8')).toMatch(/export declare function probe\(options\?: ProbeOptions\): Objective;/);
    });

    it('writes a package whose own test, the conformance suite, passes out of the box', async () => {
      const vitest = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
      const result = await run(process.execPath, [vitest, 'run', '--root', path.join(repoRoot, dir)], { cwd: path.join(repoRoot, dir) }).catch(
        (e: { stdout: string; stderr: string; code: number }) => e,
      );
      const output = `${result.stdout}${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      expect(output, output.slice(-2000)).toMatch(/Tests\s+6 passed \(6\)/);
      expect(output).toMatch(/objective conformance: probe/);
    });
  });
});

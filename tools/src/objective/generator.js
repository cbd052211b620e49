// @ts-check
// Plain JavaScript (type-checked through JSDoc) so `nx g` loads it on Node 20 without a TypeScript transpiler.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFiles, joinPathFragments, logger, names, offsetFromRoot, readJson } from '@nx/devkit';

/**
 * @typedef {object} ObjectiveGeneratorSchema
 * @property {string} name Objective name in kebab case (`span-corruption`).
 * @property {string} [directory] Package folder relative to the workspace root. Default `packages/objective-NAME`.
 * @property {string} [packageName] npm name. Default `@pretext/objective-NAME` under packages/, `@pretext/example-NAME` elsewhere.
 * @property {string} [description] One line for package.json and the README.
 */

/**
 * @typedef {object} NormalizedOptions
 * @property {string} name
 * @property {string} directory
 * @property {string} packageName
 * @property {string} description
 * @property {boolean} isPrivate
 * @property {string} factory camelCase factory name (`spanCorruption`)
 * @property {string} optionsType PascalCase options interface (`SpanCorruptionOptions`)
 * @property {string} offset path from the package folder back to the workspace root (`../../`)
 * @property {string} coreVersion version of the core package in this workspace
 * @property {string} tfjsVersion version range of TensorFlow.js the conformance suite runs with
 */

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Checks the options and fills in the defaults.
 * @param {import('@nx/devkit').Tree} tree
 * @param {ObjectiveGeneratorSchema} schema
 * @returns {NormalizedOptions}
 */
export function normalizeOptions(tree, schema) {
  const name = String(schema.name ?? '');
  if (!NAME.test(name)) {
    throw new Error(`objective name "${name}" is invalid: use kebab case, e.g. span-corruption`);
  }
  const directory = joinPathFragments(schema.directory ?? `packages/objective-${name}`).replace(/\/$/, '');
  if (directory.startsWith('..') || path.isAbsolute(directory)) {
    throw new Error(`--directory ${directory} is invalid: give a folder inside the workspace, e.g. examples/${name}`);
  }
  if (tree.exists(directory) && tree.children(directory).length > 0) {
    throw new Error(`${directory} already exists and is not empty; pick another --directory or remove it`);
  }
  const inPackages = directory.startsWith('packages/');
  const packageName = schema.packageName ?? (inPackages ? `@pretext/objective-${name}` : `@pretext/example-${name}`);
  const { propertyName, className } = names(name);
  /** @type {(file: string) => Record<string, any> | undefined} */
  const manifest = (file) => (tree.exists(file) ? readJson(tree, file) : undefined);
  const coreVersion = manifest('packages/core/package.json')?.version ?? '0.0.0';
  const tfjsVersion = manifest('packages/objective-testing/package.json')?.peerDependencies?.['@tensorflow/tfjs'] ?? '^4.22.0';
  return {
    name,
    directory,
    packageName,
    description: schema.description ?? `The ${name} pre-training objective for pretext.`,
    isPrivate: !inPackages,
    factory: propertyName,
    optionsType: `${className}Options`,
    offset: offsetFromRoot(directory),
    coreVersion,
    tfjsVersion,
  };
}

/**
 * Adds `{ "path": directory }` to the root tsconfig.json's references, editing the text so the file keeps its
 * one-line-per-reference layout (a JSON rewrite would reformat every entry).
 * @param {import('@nx/devkit').Tree} tree
 * @param {string} directory
 */
export function addRootReference(tree, directory) {
  if (!tree.exists('tsconfig.json')) return;
  /** @type {{ references?: { path: string }[] }} */
  const config = readJson(tree, 'tsconfig.json');
  if ((config.references ?? []).some((r) => path.posix.normalize(r.path) === directory)) return;
  const text = /** @type {string} */ (tree.read('tsconfig.json', 'utf-8'));
  const match = /("references"\s*:\s*\[)([\s\S]*?)(\n?)(\s*)\]/.exec(text);
  if (!match) throw new Error('tsconfig.json has no "references" array; add { "path": "' + directory + '" } by hand');
  const [whole, open, body, newline, closingIndent] = /** @type {[string, string, string, string, string]} */ (/** @type {unknown} */ (match));
  const entry = `{ "path": "${directory}" }`;
  let replacement;
  if (body.trim() === '') {
    replacement = `${open}\n    ${entry}\n  ]`;
  } else {
    const indent = /\n([ \t]*)\{/.exec(body)?.[1] ?? '    ';
    replacement = `${open}${body.replace(/\s*$/, '')},\n${indent}${entry}${newline || '\n'}${closingIndent.replace(/^\n/, '')}]`;
  }
  tree.write('tsconfig.json', text.replace(whole, replacement));
}

/**
 * `nx g @pretext/tools:objective NAME [--directory examples/NAME]`: a package with the objective contract's three
 * sides filled in by a small working objective (masked-token prediction), the conformance suite as its test, a
 * README, and the root tsconfig reference. Run a (locked) `npm install` afterwards so npm links the new workspace.
 * @param {import('@nx/devkit').Tree} tree
 * @param {ObjectiveGeneratorSchema} schema
 */
export default async function objectiveGenerator(tree, schema) {
  const options = normalizeOptions(tree, schema);
  generateFiles(tree, path.join(here, 'files'), options.directory, { ...options, tmpl: '' });
  addRootReference(tree, options.directory);
  return () => {
    logger.info(`Created ${options.packageName} in ${options.directory}. Next: npm install (links the workspace), then`);
    logger.info(`  cd ${options.directory} && npx tsc -b && npx vitest run`);
  };
}

import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, OBJECTIVE_CONTRACT_VERSION, type Objective, type ObjectiveSpec } from '@pretext/core';

/**
 * Short names for first-party objectives. Inside the library objectives are values; only the CLI maps names,
 * and it loads each package on demand so a user needs only the objectives they installed.
 */
export const FIRST_PARTY_OBJECTIVES: Readonly<Record<string, { module: string; factory: string }>> = {
  clm: { module: '@pretext/objective-clm', factory: 'clm' },
  mlm: { module: '@pretext/objective-mlm', factory: 'mlm' },
  nsp: { module: '@pretext/objective-nsp', factory: 'nsp' },
  sop: { module: '@pretext/objective-sop', factory: 'sop' },
  'electra-rtd': { module: '@pretext/objective-electra-rtd', factory: 'electraRtd' },
};

/**
 * Resolves `--objective` values: comma-separated entries, each a first-party short name, a package name, or a file
 * path, optionally with a weight (`mlm,nsp:0.5`). A custom module must export a factory (the default export or the
 * only function export) or an objective value.
 */
export type ObjectiveEntry = string | { readonly name: string; readonly weight?: number; readonly options?: Record<string, unknown> };

export async function loadObjectives(list: string | readonly ObjectiveEntry[], options: Record<string, Record<string, unknown>> = {}): Promise<ObjectiveSpec[]> {
  const entries = typeof list === 'string' ? list.split(',').map((s) => s.trim()).filter(Boolean) : list;
  if (entries.length === 0) throw new ConfigError('--objective', list, `one or more of ${Object.keys(FIRST_PARTY_OBJECTIVES).join(', ')}, a package name or a file path`);
  const specs: ObjectiveSpec[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      const objective = await loadOne(entry.name, entry.options ?? options[entry.name] ?? {});
      const weight = entry.weight ?? 1;
      specs.push(weight === 1 ? objective : [objective, weight]);
      continue;
    }
    const m = /^(.*?)(?::([0-9.eE+-]+))?$/.exec(entry)!;
    const name = m[1]!;
    const weight = m[2] === undefined ? 1 : Number(m[2]);
    if (!(weight > 0)) throw new ConfigError('--objective', entry, 'a positive weight after the colon, e.g. nsp:0.5');
    const objective = await loadOne(name, options[name] ?? {});
    specs.push(weight === 1 ? objective : [objective, weight]);
  }
  return specs;
}

async function loadOne(name: string, opts: Record<string, unknown>): Promise<Objective> {
  const known = FIRST_PARTY_OBJECTIVES[name];
  const specifier = known?.module ?? (name.startsWith('.') || isAbsolute(name) ? await fileSpecifier(resolve(name)) : name);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    const hint = known ? `npm install ${known.module}` : 'check the package name or file path';
    throw new ConfigError('--objective', name, `an installed objective (${hint}); loading failed: ${(cause as Error).message.split('\n')[0]}`);
  }
  const factory = known ? mod[known.factory] : pickFactory(mod);
  const value = typeof factory === 'function' ? (factory as (o: Record<string, unknown>) => unknown)(opts) : factory;
  if (!isObjective(value)) {
    throw new ConfigError('--objective', name, `a module exporting an objective factory (contract ${OBJECTIVE_CONTRACT_VERSION}); see docs/writing-an-objective.md`);
  }
  return value;
}

function pickFactory(mod: Record<string, unknown>): unknown {
  if (mod.default !== undefined) return mod.default;
  const fns = Object.values(mod).filter((v) => typeof v === 'function');
  if (fns.length === 1) return fns[0];
  return Object.values(mod).find(isObjective);
}

function isObjective(value: unknown): value is Objective {
  return typeof value === 'object' && value !== null && typeof (value as Objective).name === 'string' && 'contract' in value && typeof (value as Objective).head === 'function';
}

/**
 * A file path imports as is; a folder is a package: its `exports["."]` (the `import` or `default` condition, never
 * the sources-only `@pretext/source`), else `main`, else `index.js`.
 */
async function fileSpecifier(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new ConfigError('--objective', path, 'an existing file or package folder');
  if (!info.isDirectory()) return pathToFileURL(path).href;
  let pkg: { exports?: unknown; main?: string } = {};
  try {
    pkg = JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return pathToFileURL(join(path, 'index.js')).href;
  }
  const entry = exportEntry(pkg.exports) ?? pkg.main ?? 'index.js';
  return pathToFileURL(join(path, entry)).href;
}

function exportEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object') return undefined;
  const record = exports as Record<string, unknown>;
  const root = '.' in record ? record['.'] : record;
  if (typeof root === 'string') return root;
  if (!root || typeof root !== 'object') return undefined;
  const conditions = root as Record<string, unknown>;
  for (const key of ['import', 'node', 'default']) {
    const value = conditions[key];
    if (typeof value === 'string') return value;
    const nested = exportEntry(value);
    if (nested) return nested;
  }
  return undefined;
}

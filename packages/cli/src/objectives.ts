import { isAbsolute, resolve } from 'node:path';
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
export async function loadObjectives(list: string, options: Record<string, Record<string, unknown>> = {}): Promise<ObjectiveSpec[]> {
  const entries = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new ConfigError('--objective', list, `one or more of ${Object.keys(FIRST_PARTY_OBJECTIVES).join(', ')}, a package name or a file path`);
  const specs: ObjectiveSpec[] = [];
  for (const entry of entries) {
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
  const specifier = known?.module ?? (name.startsWith('.') || isAbsolute(name) ? pathToFileURL(resolve(name)).href : name);
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

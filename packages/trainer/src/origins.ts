import { ConfigError, composeObjectives, type Composition, type Objective, type ObjectiveOrigin, type ObjectiveSpec } from '@pretext/core';

/** An objective a worker thread can rebuild: where its factory lives, with the options, and its weight. */
export interface PortableObjective {
  readonly origin: ObjectiveOrigin;
  readonly weight: number;
}

/**
 * The function `module` exports as `name`, for rebuilding a value in a worker thread from its origin; a typed
 * error naming `module#name` (as `what`, expecting `expected`) when there is none.
 */
export async function importFactory<T>(module: string, name: string, what: string, expected: string): Promise<(options: unknown) => T> {
  const factory = ((await import(module)) as Record<string, unknown>)[name];
  if (typeof factory !== 'function') throw new ConfigError(what, `${module}#${name}`, expected);
  return factory as (options: unknown) => T;
}

/** Rebuilds objectives in a worker thread (replica or loader) from their origins and composes them as the main thread did. */
export async function compositionFromOrigins(objectives: readonly PortableObjective[]): Promise<Composition> {
  const specs: ObjectiveSpec[] = [];
  for (const { origin, weight } of objectives) {
    const factory = await importFactory<Objective>(origin.module, origin.factory, 'objective origin', 'an exported objective factory');
    specs.push([factory(origin.options), weight]);
  }
  return composeObjectives(specs);
}

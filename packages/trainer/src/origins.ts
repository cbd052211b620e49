import { ConfigError, composeObjectives, type Composition, type Objective, type ObjectiveOrigin, type ObjectiveSpec } from '@pretext/core';

/** An objective a worker thread can rebuild: where its factory lives, with the options, and its weight. */
export interface PortableObjective {
  readonly origin: ObjectiveOrigin;
  readonly weight: number;
}

/** Rebuilds objectives in a worker thread (replica or loader) from their origins and composes them as the main thread did. */
export async function compositionFromOrigins(objectives: readonly PortableObjective[]): Promise<Composition> {
  const specs: ObjectiveSpec[] = [];
  for (const { origin, weight } of objectives) {
    const mod = (await import(origin.module)) as Record<string, (options: unknown) => Objective>;
    const factory = mod[origin.factory];
    if (typeof factory !== 'function') throw new ConfigError('objective origin', `${origin.module}#${origin.factory}`, 'an exported objective factory');
    specs.push([factory(origin.options), weight]);
  }
  return composeObjectives(specs);
}

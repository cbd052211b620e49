import { describe, expect, it } from 'vitest';
import { ConfigError } from '@pretext/core';
import { clm } from '@pretext/objective-clm';
import { compositionFromOrigins } from './origins.js';

describe('compositionFromOrigins', () => {
  it('rebuilds objectives with their options and weights, as a worker thread does', async () => {
    const made = clm({ resetAttentionMask: true });
    const composition = await compositionFromOrigins([{ origin: made.origin!, weight: 0.5 }]);
    expect(composition.names).toEqual(['clm']);
    expect(composition.architecture).toBe('decoder');
    expect(composition.objectives[0]!.weight).toBe(0.5);
    expect(composition.objectives[0]!.objective.options).toEqual(made.options);
  });

  it('names the module and export when the origin has no such factory', async () => {
    const origin = { module: '@pretext/objective-clm', factory: 'nope', options: {} };
    await expect(compositionFromOrigins([{ origin, weight: 1 }])).rejects.toThrow(ConfigError);
    await expect(compositionFromOrigins([{ origin, weight: 1 }])).rejects.toThrow(/@pretext\/objective-clm#nope/);
  });
});

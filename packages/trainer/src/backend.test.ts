import { describe, expect, it } from 'vitest';
import { ConfigError } from '@pretext/core';
import { selectBackend } from './backend.js';

describe('selectBackend', () => {
  it('falls back to wasm when tfjs-node(-gpu) are not installed and says why', async () => {
    const selected = await selectBackend();
    expect(selected.name).toBe('wasm');
    expect(selected.reason).toMatch(/tfjs-node-gpu not installed/);
    expect(selected.reason).toMatch(/wasm \(SIMD\)/);
    expect(selected.tf.getBackend()).toBe('wasm');
  });

  it('forces the cpu backend and refuses a GPU backend that cannot load with a ConfigError', async () => {
    const cpu = await selectBackend({ backend: 'cpu' });
    expect(cpu.tf.getBackend()).toBe('cpu');
    const error = await selectBackend({ backend: 'tfjs-node-gpu' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/tfjs-node-gpu not installed/);
    await expect(selectBackend({ backend: 'webgl' as never })).rejects.toBeInstanceOf(ConfigError);
    await selectBackend({ backend: 'wasm' });
  });
});

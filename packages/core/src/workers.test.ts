import { describe, expect, it } from 'vitest';
import { PretextError, ShardIntegrityError } from './errors.js';
import { WorkerPretextError, reviveError, serializeError } from './workers.js';

class PackageError extends PretextError {
  readonly code = 'Package';
  constructor(readonly dir: string) {
    super(`${dir}: not a rank folder; give the --out folders of one ingest run`);
  }
}

describe('errors across a thread boundary', () => {
  it('revives a core error as its own class with its fields and message', () => {
    const error = new ShardIntegrityError('/data/tokens/part-00001.arrow', 'holds 3 rows but the manifest records 9');
    const revived = reviveError(structuredClone(serializeError(error)), 'the loader thread');
    expect(revived).toBeInstanceOf(ShardIntegrityError);
    expect(revived.message).toBe(error.message);
    expect((revived as ShardIntegrityError).file).toBe(error.file);
    expect((revived as ShardIntegrityError).code).toBe('ShardIntegrity');
    expect(revived.stack).toContain('the loader thread');
  });

  it('keeps a package’s own PretextError a PretextError, and anything else a plain error with its name', () => {
    const revived = reviveError(structuredClone(serializeError(new PackageError('/runs/rank-3'))));
    expect(revived).toBeInstanceOf(WorkerPretextError);
    expect(revived).toBeInstanceOf(PretextError);
    expect((revived as WorkerPretextError).code).toBe('Package');
    expect((revived as unknown as { dir: string }).dir).toBe('/runs/rank-3');
    const plain = reviveError(structuredClone(serializeError(new RangeError('collate: no examples'))));
    expect(plain).not.toBeInstanceOf(PretextError);
    expect(plain.name).toBe('RangeError');
    expect(plain.message).toBe('collate: no examples');
  });

  it('sends a field that cannot be cloned as its string instead of failing', () => {
    const error = Object.assign(new RangeError('bad'), { handle: () => 1 });
    const s = serializeError(error);
    expect(() => structuredClone(s)).not.toThrow();
    expect(typeof s.fields['handle']).toBe('string');
  });
});

import { reviveError as revive, type PretextError, type SerializedError } from '@pretext/core';

export { serializeError, type SerializedError } from '@pretext/core';

/** Workers here serialize only `PretextError`s, so what comes back is one. */
export function reviveError(s: SerializedError): PretextError {
  return revive(s, 'an ingest worker') as PretextError;
}

/** The file an error names (`file` or `path` field), or ''. */
export function errorFile(error: { fields?: Record<string, unknown> } | PretextError): string {
  const f = 'fields' in error && error.fields ? error.fields : (error as unknown as Record<string, unknown>);
  return String(f.file ?? f.path ?? '');
}

/** The position an error names (`position` or `offset` field), or null. */
export function errorPosition(error: { fields?: Record<string, unknown> } | PretextError): number | string | null {
  const f = 'fields' in error && error.fields ? error.fields : (error as unknown as Record<string, unknown>);
  const p = f.position ?? f.offset;
  return typeof p === 'number' || typeof p === 'string' ? p : null;
}

import * as core from '@pretext/core';
import { PretextError } from '@pretext/core';

/** A PretextError as it crosses a worker boundary: its class name and own fields. */
export interface SerializedError {
  className: string;
  message: string;
  fields: Record<string, unknown>;
}

export function serializeError(error: PretextError): SerializedError {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) if (k !== 'message' && k !== 'stack') fields[k] = v;
  return { className: error.constructor.name, message: error.message, fields };
}

/** A PretextError from another thread, as an instance of its own class (so `instanceof` and its fields work). */
export class WorkerPretextError extends PretextError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export function reviveError(s: SerializedError): PretextError {
  const Class = (core as unknown as Record<string, unknown>)[s.className];
  let error: PretextError;
  if (typeof Class === 'function' && (Class as { prototype: unknown }).prototype instanceof PretextError) {
    error = Object.create((Class as { prototype: object }).prototype) as PretextError;
    Object.defineProperty(error, 'message', { value: s.message, writable: true, configurable: true });
    Object.defineProperty(error, 'name', { value: s.className, writable: true, configurable: true });
    Object.defineProperty(error, 'stack', { value: `${s.className}: ${s.message}`, writable: true, configurable: true });
  } else {
    error = new WorkerPretextError(s.message, String(s.fields.code ?? s.className));
  }
  Object.assign(error, s.fields);
  return error;
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

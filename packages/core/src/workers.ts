import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import * as errors from './errors.js';
import { PretextError } from './errors.js';

/**
 * Starts a worker thread from a module URL. When the module is TypeScript source (tests and development run
 * from `src/`), the worker gets the tsx loader and the `@pretext/source` condition so it resolves workspace
 * packages to their sources too; built packages run plain JavaScript.
 */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  const file = fileURLToPath(url);
  if (!file.endsWith('.ts')) return new Worker(file, options);
  // Node 20 ignores `--import tsx` in a worker's execArgv, so a tiny CommonJS bootstrap registers tsx's ESM
  // hooks inside the worker and then imports the module.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); }).catch((error) => { setImmediate(() => { throw error; }); });`;
  return new Worker(boot, { ...options, eval: true, execArgv: ['--conditions=@pretext/source', ...(options.execArgv ?? [])] });
}

/** An error as it crosses a thread boundary: its class name, message and own plain fields. */
export interface SerializedError {
  readonly className: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** The error was a `PretextError` (it is revived as one even when its class lives outside core). */
  readonly pretext: boolean;
}

/** Flattens an error for `postMessage`; a field that cannot be cloned travels as its string. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { className: 'Error', message: String(error), fields: {}, pretext: false };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) {
    if (k === 'message' || k === 'stack' || k === 'cause') continue;
    try {
      structuredClone(v);
      fields[k] = v;
    } catch {
      fields[k] = String(v);
    }
  }
  const pretext = error instanceof PretextError;
  return { className: pretext ? error.constructor.name : error.name, message: error.message, fields, pretext };
}

/** A `PretextError` from another thread whose class is not one of core's (a package's own error class). */
export class WorkerPretextError extends PretextError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The error back on this side: an instance of its core class when it has one (so `instanceof` and the fields
 * work), a `WorkerPretextError` for other `PretextError`s, else a plain `Error` with the original name.
 */
export function reviveError(s: SerializedError, thread = 'a worker thread'): Error {
  const Class = (errors as Record<string, unknown>)[s.className];
  let error: Error;
  if (typeof Class === 'function' && (Class as { prototype: unknown }).prototype instanceof PretextError) {
    error = Object.create((Class as { prototype: object }).prototype) as Error;
    Object.defineProperty(error, 'message', { value: s.message, writable: true, configurable: true });
    Object.defineProperty(error, 'name', { value: s.className, writable: true, configurable: true });
    Object.defineProperty(error, 'stack', { value: `${s.className}: ${s.message}\n    at ${thread}`, writable: true, configurable: true });
  } else if (s.pretext) {
    error = new WorkerPretextError(s.message, String(s.fields['code'] ?? s.className));
  } else {
    error = new Error(s.message);
    error.name = s.className;
  }
  Object.assign(error, s.fields);
  return error;
}

import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

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

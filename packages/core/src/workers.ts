import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

/**
 * Starts a worker thread from a module URL. When the module is TypeScript source (tests and development run
 * from `src/`), the worker gets the tsx loader and the `@pretext/source` condition so it resolves workspace
 * packages to their sources too; built packages run plain JavaScript.
 */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  const file = fileURLToPath(url);
  const execArgv = file.endsWith('.ts')
    ? ['--import', 'tsx', '--conditions=@pretext/source', ...(options.execArgv ?? [])]
    : options.execArgv;
  return new Worker(file, { ...options, ...(execArgv ? { execArgv } : {}) });
}

import { afterEach, beforeEach, vi } from 'vitest';
import { main } from './program.js';

/** What the CLI wrote to stdout and stderr while captured (live bindings: importers see the updates). */
export let stdout = '';
export let stderr = '';

/** Empties the captured stdout and stderr. */
export function clearOutput(): void {
  stdout = '';
  stderr = '';
}

/** Sends process.stdout/stderr writes to `stdout`/`stderr` (emptied first) instead of the terminal. */
export function captureOutput(): void {
  clearOutput();
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
}

/** Captures the output of each test of the file (from an empty start), and lets it go after each. */
export function captureOutputOfEachTest(): void {
  beforeEach(captureOutput);
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
}

/** Runs `pretext --quiet ...args` in this process and returns its exit code (`process.exitCode` is left unset). */
export async function run(...args: string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    return await main(['node', 'pretext', '--quiet', ...args]);
  } finally {
    process.exitCode = undefined;
  }
}

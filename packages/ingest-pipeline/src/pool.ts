import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { UnitResult, UnitTask } from './process.js';

/**
 * A piscina pool of `threads` workers running `processUnit`. From TypeScript sources (tests) the workers start
 * through a small bootstrap that loads tsx, like `startWorker` in @pretext/core; built code runs worker.js.
 */
export function createPool(threads: number): Piscina<UnitTask, UnitResult> {
  const source = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(source ? './worker-boot.mjs' : './worker.js', import.meta.url));
  return new Piscina<UnitTask, UnitResult>({
    filename,
    minThreads: threads,
    maxThreads: threads,
    // The scheduler bounds how many units are submitted ahead; the queue never holds more than that.
    maxQueue: 'auto',
    idleTimeout: 60_000,
    execArgv: source ? ['--conditions=@pretext/source'] : [],
  });
}

/**
 * Hands units to the pool at most `window` ahead of the one being consumed and gives results back in unit order:
 * workers run in any order, the output does not depend on it, and at most `window` unit results wait in memory.
 */
export class OrderedRunner {
  private readonly pending = new Map<number, Promise<UnitResult>>();
  private submitted: number;

  constructor(
    private readonly run: (task: UnitTask) => Promise<UnitResult>,
    private readonly tasks: readonly UnitTask[],
    private readonly first: number,
    private readonly window: number,
  ) {
    this.submitted = first;
  }

  /** The result of task `i` (tasks are consumed in increasing order from `first`). */
  get(i: number): Promise<UnitResult> {
    while (this.submitted < this.tasks.length && this.submitted < i + this.window) {
      const p = this.run(this.tasks[this.submitted]!);
      // Handled when consumed; until then a failure must not count as an unhandled rejection.
      p.catch(() => undefined);
      this.pending.set(this.submitted, p);
      this.submitted++;
    }
    const p = this.pending.get(i);
    if (!p) throw new RangeError(`task ${i} was not submitted (first ${this.first}, ${this.tasks.length} tasks)`);
    this.pending.delete(i);
    return p;
  }
}

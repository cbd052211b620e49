import { spawnSync } from 'node:child_process';

/** `--name value` on the command line as a number, else `fallback`. */
export function numberOption(name: string, fallback: number, args: readonly string[] = process.argv.slice(2)): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** The middle value (the upper one of the two middles for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export interface Timing {
  /** Median CPU seconds (user + system) of a run. */
  readonly seconds: number;
  /** Median wall seconds of a run. */
  readonly wall: number;
  /** The item count the last run returned. */
  readonly count: number;
}

/**
 * Runs `fn` `repeats` times and returns the median CPU and wall seconds. `fn` returns its item count, or the
 * count and the CPU seconds of child processes when the work ran in them (this process's CPU time does not see
 * children). CPU time, because the development machines are shared: wall time there measures the neighbours.
 */
export async function cpuTime(fn: () => Promise<number | { count: number; cpu: number }>, repeats: number): Promise<Timing> {
  const cpu: number[] = [];
  const wall: number[] = [];
  let count = 0;
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    const out = await fn();
    wall.push((performance.now() - t) / 1000);
    const c = process.cpuUsage(c0);
    if (typeof out === 'number') {
      count = out;
      cpu.push((c.user + c.system) / 1e6);
    } else {
      count = out.count;
      cpu.push(out.cpu);
    }
  }
  return { seconds: median(cpu), wall: median(wall), count };
}

/** Runs a bash command and returns the CPU seconds (user + system) its child processes used (bash's `times`). */
export function childCpu(command: string): number {
  const r = spawnSync('bash', ['-c', `${command}; times`], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${command} failed (exit ${r.status}): ${r.stderr.trim()}`);
  // The last line of `times` is the children's user and system time, e.g. `0m0.120s 0m0.010s`.
  const last = r.stdout.trim().split('\n').pop()!;
  return last.split(/\s+/).reduce((sum, part) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(part);
    return m ? sum + Number(m[1]) * 60 + Number(m[2]) : sum;
  }, 0);
}

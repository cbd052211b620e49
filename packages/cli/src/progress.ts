import cliProgress from 'cli-progress';

export interface Bar {
  update(value: number, payload?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr (stdout stays clean for data). On a terminal it redraws in place; in a log (CI, a pipe)
 * it prints a line every few seconds instead of nothing.
 */
export function createBar(title: string, total: number, fields: string, options: { quiet?: boolean; eta?: 'bar' | 'payload' } = {}): Bar {
  if (options.quiet) return { update() {}, setTotal() {}, stop() {} };
  // Placeholders show as '…' until the first update fills them, never as raw `{name}`.
  const initial = Object.fromEntries([...fields.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], '…']));
  const eta = options.eta === 'payload' ? '{eta}' : '{eta_formatted}';
  if (options.eta === 'payload') initial.eta = '…';
  const bar = new cliProgress.SingleBar(
    {
      format: `${title.padEnd(10)} {bar} {percentage}% | ${fields} | ETA ${eta}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: true,
      barsize: 24,
      etaBuffer: 50,
      formatValue: (v, _o, type) => (type === 'percentage' ? String(v).padStart(3) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, total), 0, initial);
  let stopped = false;
  return {
    update(value, payload) {
      bar.update(value, payload ?? {});
    },
    setTotal(t) {
      bar.setTotal(Math.max(1, t));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

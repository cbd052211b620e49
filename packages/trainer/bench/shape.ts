/**
 * The model shape the trainer benchmarks share, from `--d --layers --vocab --seq --batch` (defaults: the issue's
 * GPT, d 256, 4 layers, vocab 8192, sequence 128, batch 16; heads of 64), and the other `--key value` options.
 */
export interface BenchShape {
  readonly d: number;
  readonly layers: number;
  readonly vocab: number;
  readonly seq: number;
  readonly batch: number;
  readonly heads: number;
  /** Every `--key value` pair given. */
  readonly args: ReadonlyMap<string, string>;
  /** `--key` as a number, else `fallback`. */
  num(key: string, fallback: number): number;
}

export function benchShape(argv: readonly string[] = process.argv.slice(2)): BenchShape {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? '');
  const num = (key: string, fallback: number) => (args.has(key) ? Number(args.get(key)) : fallback);
  const d = num('d', 256);
  return { d, layers: num('layers', 4), vocab: num('vocab', 8192), seq: num('seq', 128), batch: num('batch', 16), heads: Math.max(1, d / 64), args, num };
}

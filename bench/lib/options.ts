/** Settings shared by every benchmark of one run. */
export interface BenchOptions {
  /** Benchmarks to run, in order; empty means all of them. */
  benchmarks: string[];
  /** Measured seconds per variant, after the warm-up. */
  durationSec: number;
  /** Warm-up seconds per variant (same load, not measured). */
  warmupSec: number;
  /** Concurrent keep-alive connections of the load generator. */
  connections: number;
}

export const USAGE = `Usage: npm run bench -- [benchmark…] [options]

Options (or environment variables):
  --duration <s>      measured seconds per variant   (BENCH_DURATION, default 20)
  --warmup <s>        warm-up seconds per variant    (BENCH_WARMUP, default 3)
  --connections <n>   concurrent connections         (BENCH_CONNECTIONS, default 50)
  --help              show this help`;

export class UsageError extends Error {}

interface Limits {
  min: number;
  max: number;
}

type NumericOption = 'durationSec' | 'warmupSec' | 'connections';

const NUMERIC_FLAGS: Record<string, { key: NumericOption; env: string; limits: Limits }> = {
  duration: { key: 'durationSec', env: 'BENCH_DURATION', limits: { min: 1, max: 600 } },
  warmup: { key: 'warmupSec', env: 'BENCH_WARMUP', limits: { min: 0, max: 60 } },
  connections: { key: 'connections', env: 'BENCH_CONNECTIONS', limits: { min: 1, max: 1000 } },
};

function parseNumber(name: string, raw: string, { min, max }: Limits): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Reads the options from the command line, then the environment, then the defaults. */
export function parseOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): BenchOptions | 'help' {
  const options: BenchOptions = { benchmarks: [], durationSec: 20, warmupSec: 3, connections: 50 };
  for (const [name, flag] of Object.entries(NUMERIC_FLAGS)) {
    const raw = env[flag.env];
    if (raw) options[flag.key] = parseNumber(name, raw, flag.limits);
  }
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) {
      options.benchmarks.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2);
    const flag = NUMERIC_FLAGS[name];
    if (!flag) throw new UsageError(`unknown option ${arg}`);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    options[flag.key] = parseNumber(name, raw, flag.limits);
  }
  if (options.connections !== Math.floor(options.connections)) {
    throw new UsageError('--connections must be a whole number');
  }
  return options;
}

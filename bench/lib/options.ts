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
  /** pipeline: offered message rates (per second), one step each, lowest first. */
  rates: number[];
  /** pipeline, memory: worker processes (APP_ROLE=worker) next to the one API process. */
  workers: number;
  /** memory: messages sent in all. */
  messages: number;
  /** memory: offered message rate (per second). */
  rate: number;
  /** pipeline, memory: products in each merchant's catalogue. */
  products: number;
  /** pipeline: how long the fake model takes to answer, in ms. */
  modelMs: number;
}

export const USAGE = `Usage: npm run bench -- [benchmark…] [options]

Options (or environment variables):
  --duration <s>      measured seconds per variant   (BENCH_DURATION, default 20)
                      (pipeline measures 300 msg/s for at least 60)
  --warmup <s>        warm-up seconds per variant    (BENCH_WARMUP, default 3)
  --connections <n>   concurrent connections         (BENCH_CONNECTIONS, default 50)
  --rates <r,r,…>     pipeline: offered msg/s steps  (BENCH_RATES, default 50,75,100,150,200,300,400,500)
  --workers <n>       pipeline, memory: worker processes (BENCH_WORKERS, default 1)
  --messages <n>      memory: messages in all        (BENCH_MESSAGES, default 20000)
  --rate <r>          memory: offered msg/s          (BENCH_RATE, default 80)
  --products <n>      pipeline, memory: products per merchant (BENCH_PRODUCTS, default 50)
  --model-ms <ms>     pipeline: the fake model's answer time (BENCH_MODEL_MS, default 0)
  --help              show this help

Servers: a run starts a PostgreSQL cluster (autovacuum on) and a redis-server (AOF every second)
of its own and removes them at the end; BENCH_POSTGRES_URL and BENCH_REDIS_URL use existing ones.`;

export class UsageError extends Error {}

interface Limits {
  min: number;
  max: number;
}

type NumericOption =
  | 'durationSec'
  | 'warmupSec'
  | 'connections'
  | 'workers'
  | 'messages'
  | 'rate'
  | 'products'
  | 'modelMs';

const NUMERIC_FLAGS: Record<string, { key: NumericOption; env: string; limits: Limits }> = {
  duration: { key: 'durationSec', env: 'BENCH_DURATION', limits: { min: 1, max: 3_600 } },
  warmup: { key: 'warmupSec', env: 'BENCH_WARMUP', limits: { min: 0, max: 60 } },
  connections: { key: 'connections', env: 'BENCH_CONNECTIONS', limits: { min: 1, max: 1000 } },
  workers: { key: 'workers', env: 'BENCH_WORKERS', limits: { min: 1, max: 8 } },
  messages: { key: 'messages', env: 'BENCH_MESSAGES', limits: { min: 100, max: 1_000_000 } },
  rate: { key: 'rate', env: 'BENCH_RATE', limits: { min: 1, max: 10_000 } },
  products: { key: 'products', env: 'BENCH_PRODUCTS', limits: { min: 0, max: 100_000 } },
  'model-ms': { key: 'modelMs', env: 'BENCH_MODEL_MS', limits: { min: 0, max: 60_000 } },
};

const RATE_LIMITS: Limits = { min: 1, max: 10_000 };

function parseRates(raw: string): number[] {
  const rates = raw.split(',').map((part) => parseNumber('rates', part.trim(), RATE_LIMITS));
  if (rates.length === 0) throw new UsageError('--rates needs at least one rate');
  return rates.sort((a, b) => a - b);
}

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
  const options: BenchOptions = {
    benchmarks: [],
    durationSec: 20,
    warmupSec: 3,
    connections: 50,
    rates: [50, 75, 100, 150, 200, 300, 400, 500],
    workers: 1,
    messages: 20_000,
    rate: 80,
    products: 50,
    modelMs: 0,
  };
  for (const [name, flag] of Object.entries(NUMERIC_FLAGS)) {
    const raw = env[flag.env];
    if (raw) options[flag.key] = parseNumber(name, raw, flag.limits);
  }
  if (env.BENCH_RATES) options.rates = parseRates(env.BENCH_RATES);
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) {
      options.benchmarks.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name === 'rates') {
      const raw = inline ?? argv[++i];
      if (raw === undefined) throw new UsageError('--rates needs a value');
      options.rates = parseRates(raw);
      continue;
    }
    const flag = NUMERIC_FLAGS[name];
    if (!flag) throw new UsageError(`unknown option ${arg}`);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    options[flag.key] = parseNumber(name, raw, flag.limits);
  }
  for (const key of ['connections', 'workers', 'messages', 'products'] as const) {
    if (options[key] !== Math.floor(options[key])) {
      throw new UsageError(`--${key} must be a whole number`);
    }
  }
  return options;
}

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Ledger, runWithWarmup, type LoadRun, type PreparedRequest } from 'bench/lib/load';
import {
  freePort,
  runChild,
  startChild,
  stopChild,
  waitReady,
  type Child,
} from 'bench/lib/processes';
import type { BenchContext } from 'bench/lib/report';
import { databaseUrl, dropDatabase, deleteRedisKeys, withPostgres } from 'bench/lib/stores';

export const WEBHOOK_PATH = '/webhooks/instagram';
/** Seconds before an unanswered request counts as a timeout (Meta allows 5–20 s). */
const REQUEST_TIMEOUT_SEC = 10;
/** Outside APIs point here: nothing listens, so a call fails at once and never leaves the box. */
const NOWHERE = 'http://127.0.0.1:9';

export interface Scenario {
  accountId: string;
  secret: string;
  /** A fresh generator of signed payloads (same seed, same sequence). */
  payloads: () => () => PreparedRequest;
}

export interface VariantRun {
  load: LoadRun;
  ledger: Ledger;
}

/** Environment of a child process: only what it needs, nothing inherited by accident. */
function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    NO_COLOR: '1',
    ...settings,
  };
}

function logFile(context: BenchContext, name: string): string {
  return join(context.workDir, 'logs', 'webhook-ingest', `${name}.log`);
}

async function drive(
  context: BenchContext,
  variant: string,
  origin: string,
  scenario: Scenario,
): Promise<VariantRun> {
  const { warmupSec, durationSec, connections } = context.options;
  context.progress(
    `${variant}: ${warmupSec} s warm-up, ${durationSec} s measured, ${connections} connections`,
  );
  const ledger = new Ledger();
  const load = await runWithWarmup(
    {
      origin,
      path: WEBHOOK_PATH,
      connections,
      timeoutSec: REQUEST_TIMEOUT_SEC,
      next: scenario.payloads(),
    },
    { warmupSec, durationSec },
    ledger,
  );
  return { load, ledger };
}

/** The baseline: bench/webhook-ingest/bare-server.ts in its own process. */
export async function runBare(context: BenchContext, scenario: Scenario): Promise<VariantRun> {
  const port = await freePort();
  const child = startChild(
    'bare-fastify',
    ['-r', join(context.root, 'bench', 'register.js'), join(__dirname, 'bare-server.ts')],
    {
      cwd: context.workDir,
      env: childEnv({ PORT: String(port), META_APP_SECRET: scenario.secret }),
      logFile: logFile(context, 'bare-fastify'),
    },
  );
  context.cleanup.add('stop bare-fastify', () => stopChild(child));
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(child, `${origin}/health/ready`, 15_000);
  try {
    return await drive(context, 'bare-fastify', origin, scenario);
  } finally {
    await stopChild(child);
  }
}

/** A Radd deployment of its own: database, Redis prefix, API process and worker process. */
export interface RaddDeployment {
  databaseName: string;
  databaseUrl: string;
  redisPrefix: string;
  api: Child;
  worker: Child;
  origin: string;
}

/**
 * Creates the database (migrations), the merchant the messages route to, and starts `dist/main.js`
 * twice, as deployed: APP_ROLE=api and APP_ROLE=worker. Everything is undone by the cleanup.
 */
export async function deployRadd(
  context: BenchContext,
  scenario: Scenario,
  servers: { postgres: string; redis: string },
): Promise<RaddDeployment> {
  const stamp = Date.now();
  const databaseName = `radd_bench_${stamp}`;
  const redisPrefix = `radd-bench-${stamp}`;
  const dbUrl = databaseUrl(servers.postgres, databaseName);
  context.cleanup.add(`drop database ${databaseName}`, () =>
    dropDatabase(servers.postgres, databaseName),
  );
  context.cleanup.add(`delete Redis keys ${redisPrefix}:*`, async () => {
    await deleteRedisKeys(servers.redis, redisPrefix);
  });

  const [apiPort, healthPort] = [await freePort(), await freePort()];
  const settings = {
    DATABASE_URL: dbUrl,
    REDIS_URL: servers.redis,
    REDIS_PREFIX: redisPrefix,
    META_APP_SECRET: scenario.secret,
    IG_VERIFY_TOKEN: randomBytes(12).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    WORKER_HEALTH_PORT: String(healthPort),
    GRAPH_API_BASE_URL: NOWHERE,
    INSTAGRAM_API_BASE_URL: NOWHERE,
    MANYCHAT_BASE_URL: NOWHERE,
    OPENAI_BASE_URL: NOWHERE,
  };
  const dist = (file: string) => join(context.root, 'dist', file);

  context.progress(`radd: creating ${databaseName} and applying migrations`);
  await runChild(
    'migrations',
    [dist('database/migrate.main.js')],
    { cwd: context.workDir, env: childEnv(settings), logFile: logFile(context, 'migrate') },
    60_000,
  );
  await withPostgres(dbUrl, (client) =>
    client.query(
      `INSERT INTO merchants (name, instagram_account_id, delivery_channel) VALUES ('Bench shop', $1, 'instagram')`,
      [scenario.accountId],
    ),
  );

  const start = (role: 'api' | 'worker'): Child => {
    const child = startChild(`radd-${role}`, [dist('main.js')], {
      cwd: context.workDir,
      env: childEnv({ ...settings, APP_ROLE: role }),
      logFile: logFile(context, `radd-${role}`),
    });
    context.cleanup.add(`stop radd-${role}`, () => stopChild(child));
    return child;
  };
  const worker = start('worker');
  const api = start('api');
  const origin = `http://127.0.0.1:${apiPort}`;
  await Promise.all([
    waitReady(api, `${origin}/health/ready`, 60_000),
    waitReady(worker, `http://127.0.0.1:${healthPort}/health/ready`, 60_000),
  ]);
  return { databaseName, databaseUrl: dbUrl, redisPrefix, api, worker, origin };
}

export function runRadd(
  context: BenchContext,
  scenario: Scenario,
  deployment: RaddDeployment,
): Promise<VariantRun> {
  return drive(context, 'radd', deployment.origin, scenario);
}

import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type { PhaseStats } from 'bench/lib/load';
import { describeLog, summariseLog } from 'bench/lib/logs';
import { stopChild } from 'bench/lib/processes';
import {
  formatCount,
  type BenchContext,
  type Benchmark,
  type BenchmarkReport,
  type ResultRow,
} from 'bench/lib/report';
import {
  checkDurability,
  processedCount,
  waitForProcessing,
  type Durability,
  type Processing,
} from 'bench/webhook-ingest/checks';
import { instagramMessages } from 'bench/webhook-ingest/payload';
import {
  deployRadd,
  runBare,
  runRadd,
  WEBHOOK_PATH,
  type Scenario,
  type VariantRun,
} from 'bench/webhook-ingest/variants';

const NAME = 'webhook-ingest';
/** How long the worker gets, after the load stops, to process what was stored. */
const PROCESSING_WAIT_MS = 30_000;

function scenario(): Scenario {
  const accountId = `17841${String(Date.now()).slice(-12)}`;
  const secret = randomBytes(16).toString('hex');
  const payloads = () =>
    instagramMessages({
      accountId,
      secret,
      customers: 300,
      arabicShare: 0.1,
      targetBytes: 1500,
      seed: 20_250_101,
    });
  return { accountId, secret, payloads };
}

function row(variant: string, stats: PhaseStats): ResultRow {
  return {
    benchmark: NAME,
    variant,
    reqPerSec: stats.reqPerSec,
    p50Ms: stats.latencyMs.p50,
    p99Ms: stats.latencyMs.p99,
    errors: stats.errors,
    non2xx: stats.non2xx,
  };
}

function ratioLine(radd: PhaseStats, bare: PhaseStats): string {
  const ratio = radd.reqPerSec / bare.reqPerSec;
  const p99 = radd.latencyMs.p99 / bare.latencyMs.p99;
  return `${NAME}: Radd ÷ bare Fastify = ${ratio.toFixed(3)} (req/s); p99 ${p99.toFixed(1)}× the bare p99`;
}

function durabilityLines(d: Durability): string[] {
  const counts =
    `webhook_events rows ${formatCount(d.rows)} vs 2xx ${formatCount(d.acknowledged)}` +
    ` (warm-up ${formatCount(d.acknowledgedWarmup)} + measured ${formatCount(d.acknowledgedMeasured)})`;
  if (d.ok) return [`${NAME}: durability OK: ${counts}; 0 lost, 0 duplicated`];
  return [
    `${NAME}: !!! DURABILITY MISMATCH !!! ${counts}`,
    `${NAME}:     acknowledged but not stored ${d.lost}; duplicated rows ${d.duplicates};` +
      ` stored after a timeout/dropped connection ${d.storedUnanswered} (of ${d.unanswered} unanswered);` +
      ` stored but answered non-2xx ${d.storedRefused}; stored but never sent ${d.storedUnknown}`,
  ];
}

function processingLine(p: Processing): string {
  const share = (n: number) => (p.rows > 0 ? ` (${((100 * n) / p.rows).toFixed(0)}%)` : '');
  const drained =
    p.drainedAfterSec === null
      ? `${formatCount(p.pending)} still 'received' after ${p.waitedSec.toFixed(0)} s`
      : `all done ${p.drainedAfterSec.toFixed(1)} s after the load stopped`;
  return (
    `${NAME}: worker processed ${formatCount(p.processedAtLoadEnd)}${share(p.processedAtLoadEnd)} by load end,` +
    ` ${formatCount(p.processed)}${share(p.processed)} within ${PROCESSING_WAIT_MS / 1000} s after;` +
    ` failed ${formatCount(p.failed)}; ${drained}`
  );
}

function oddities(bare: VariantRun, radd: VariantRun): string[] {
  const lines: string[] = [];
  for (const [variant, run] of [
    ['bare-fastify', bare],
    ['radd', radd],
  ] as const) {
    for (const [phase, stats] of [
      ['warm-up', run.load.warmup],
      ['measured', run.load.measured],
    ] as const) {
      if (!stats) continue;
      const codes = Object.entries(stats.statusCodes)
        .filter(([code]) => !code.startsWith('2'))
        .map(([code, count]) => `${code}×${count}`);
      if (stats.errors > 0 || codes.length > 0) {
        lines.push(
          `${NAME}: ${variant} ${phase}: ${stats.errors} errors (${stats.timeouts} timeouts)` +
            `${codes.length ? `, status ${codes.join(' ')}` : ''}`,
        );
      }
    }
  }
  return lines;
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const setup = scenario();
  const servers = await context.servers();
  const bare = await runBare(context, setup);

  const deployment = await deployRadd(context, setup, servers);
  const radd = await runRadd(context, setup, deployment);
  const loadEnd = Date.now();
  const processedAtLoadEnd = await processedCount(deployment.databaseUrl);
  context.progress('radd: checking durability, then waiting for the worker');
  const durability = await checkDurability(deployment.databaseUrl, radd.load, radd.ledger);
  const processing = await waitForProcessing(
    deployment.databaseUrl,
    loadEnd,
    processedAtLoadEnd,
    PROCESSING_WAIT_MS,
  );
  await stopChild(deployment.api);
  await stopChild(deployment.worker);
  const logs = {
    api: summariseLog(deployment.api.logFile),
    worker: summariseLog(deployment.worker.logFile),
  };

  const lines = [
    ratioLine(radd.load.measured, bare.load.measured),
    ...durabilityLines(durability),
    processingLine(processing),
    ...oddities(bare, radd),
    `${NAME}: Radd logs at warn level: api ${describeLog(logs.api)}, worker ${describeLog(logs.worker)}`,
  ];
  return {
    name: NAME,
    rows: [row('bare-fastify', bare.load.measured), row('radd', radd.load.measured)],
    lines,
    failed: !durability.ok,
    details: {
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      servers: servers.description,
      options: context.options,
      route: `POST ${WEBHOOK_PATH}`,
      payload: { targetBytes: 1500, customers: 300, arabicShare: 0.1 },
      variants: {
        'bare-fastify': bare.load,
        radd: {
          ...radd.load,
          database: deployment.databaseName,
          redisPrefix: deployment.redisPrefix,
        },
      },
      ratio: {
        reqPerSec: radd.load.measured.reqPerSec / bare.load.measured.reqPerSec,
        p50: radd.load.measured.latencyMs.p50 / bare.load.measured.latencyMs.p50,
        p99: radd.load.measured.latencyMs.p99 / bare.load.measured.latencyMs.p99,
      },
      durability,
      processing,
      logs,
    },
  };
}

export const webhookIngest: Benchmark = {
  name: NAME,
  description:
    'signed Instagram webhooks against Radd (api + worker, PostgreSQL, Redis) and bare Fastify',
  run,
};

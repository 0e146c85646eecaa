import { cpus } from 'node:os';
import { CpuMeter, describeCpu, type CpuUse } from 'bench/lib/cpu';
import { describeLog, summariseLog } from 'bench/lib/logs';
import {
  formatCount,
  formatMs,
  type BenchContext,
  type Benchmark,
  type BenchmarkReport,
  type ResultRow,
} from 'bench/lib/report';
import { percentile, sleep } from 'bench/lib/util';
import { PipelineRig } from 'bench/pipeline/rig';

const NAME = 'pipeline';
/**
 * Enough merchants that none comes near its send rate at the target: ManyChat takes 25 sendContent
 * calls a second per API key and Radd spreads each key's sends to under 18 a second
 * (SPREAD_MARGIN_MS). Over 10 merchants, 300 msg/s (30 a second each) would measure the limit, not
 * the pipeline; over 20 (15 each, 84% of the spread rate) replies queued for their key's next
 * slot, which added 50-60 ms at the median. Over 40 it is 7.5 each. The same 6,000 customers.
 */
const MERCHANTS = 40;
const CUSTOMERS_EACH = 150;
/** Earlier questions of every customer, answered two days before the run. */
const HISTORY_EACH = 3;
/** Targets on a 2-core machine (the issue): sustained rate, and added latency. */
const TARGET_RATE = 300;
const STRETCH_RATE = 500;
const TARGET_P50_MS = 50;
const TARGET_P99_MS = 250;
/**
 * The load at which perf-reliability's G5 sets the latency target (normal load). The added
 * latency is also reported at TARGET_RATE, where the machine is nearly full.
 */
const LATENCY_RATE = 50;
/**
 * The target rate's least measured window. A 20 s window's backlog line swings with the latency
 * (a second's jitter at 300 msg/s is 300 messages in flight), so its slope can pass the bound
 * while nothing builds up; over a minute, a queue that grows shows.
 */
const TARGET_WINDOW_SEC = 60;
/** Served share of the offered rate, and backlog growth, that still count as sustained. */
const MIN_SERVED_SHARE = 0.97;
const MAX_BACKLOG_GROWTH_SHARE = 0.02;

interface Sample {
  at: number;
  sent: number;
  answered: number;
  queued: number;
}

export interface StepResult {
  offered: number;
  sent: number;
  windowSec: number;
  /** Replies reaching customers per second within the measured window. */
  served: number;
  /** Growth of unanswered messages (sent − answered) over the window, per second. */
  backlogGrowth: number;
  /** Growth of the queues' waiting + delayed + active jobs over the window, per second. */
  queueGrowth: number;
  maxQueued: number;
  /** The window's samples, a second apart: unanswered messages and queued jobs. */
  backlog: Array<{ second: number; unanswered: number; queued: number }>;
  sustained: boolean;
  /** Added latency (sent → send call at ManyChat, minus the model call), ms. */
  latency: { p50: number; p90: number; p99: number; max: number; count: number };
  /**
   * The webhook's answer (sent → 200) at its first attempt, ms: what Meta sees (perf-reliability
   * G3: p50 ≤ 15, p99 ≤ 100, max < 1,000). `retried` counts messages whose first try failed.
   */
  ack: { p50: number; p99: number; max: number; retried: number };
  /** Model call as the worker measured it, ms (median). */
  modelMsMedian: number;
  /** Median ms between the stages of a message (see PipelineRig.stages). */
  stageMedians: Record<string, number>;
  /** The same spans' 99th percentiles: where the tail of the added latency builds up. */
  stageP99s: Record<string, number>;
  /** Per message served: database transactions, Redis commands, and Radd's CPU time. */
  perMessage: { transactions: number; redisCommands: number; cpuMs: number };
  /** Seconds after the last message until every message of the step was answered; null: not. */
  drainSec: number | null;
  failed: number;
  cpu: CpuUse;
}

/** Least-squares slope of y over x (per second when x is in ms). */
function slopePerSec(points: Array<[number, number]>): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 1000;
}

async function runStep(
  context: BenchContext,
  rig: PipelineRig,
  rate: number,
  meter: CpuMeter,
): Promise<StepResult> {
  const { warmupSec } = context.options;
  const durationSec =
    rate === TARGET_RATE
      ? Math.max(context.options.durationSec, TARGET_WINDOW_SEC)
      : context.options.durationSec;
  const warm = Math.round(rate * warmupSec);
  const measured = Math.round(rate * durationSec);
  context.progress(`${rate} msg/s: ${warmupSec} s warm-up, ${durationSec} s measured`);
  const samples: Sample[] = [];
  const tokens: string[] = [];
  let windowStart = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const depth = await rig.watch.depth().catch(() => ({ total: Number.NaN }));
      samples.push({
        at: Date.now(),
        sent: tokens.length,
        answered: rig.answered(tokens),
        queued: depth.total,
      });
      await sleep(1_000);
    }
  })();
  const failedBefore = [...rig.sender.records.values()].filter((r) => r.gaveUp).length;
  const countersBefore = await rig.counters();
  await rig.offer(rate, warm + measured, (token, index) => {
    tokens.push(token);
    if (index === warm) {
      windowStart = Date.now();
      meter.start();
    }
  });
  const windowEnd = Date.now();
  const cpu = meter.stop();
  const drainedAt = await rig.waitAnswered(tokens, Math.max(30_000, durationSec * 2_000));
  sampling = false;
  await sampler;
  const countersAfter = await rig.counters();
  const perMessage = {
    transactions: (countersAfter.transactions - countersBefore.transactions) / tokens.length,
    redisCommands: (countersAfter.redisCommands - countersBefore.redisCommands) / tokens.length,
    cpuMs: 0,
  };

  const windowSec = (windowEnd - windowStart) / 1000;
  let servedInWindow = 0;
  for (const token of tokens) {
    const at = rig.manychat.tokens.get(token)?.firstAt;
    if (at !== undefined && at >= windowStart && at <= windowEnd) servedInWindow += 1;
  }
  const inWindow = samples.filter((s) => s.at >= windowStart && s.at <= windowEnd);
  const backlogGrowth = slopePerSec(inWindow.map((s) => [s.at, s.sent - s.answered]));
  const queueGrowth = slopePerSec(
    inWindow.filter((s) => Number.isFinite(s.queued)).map((s) => [s.at, s.queued]),
  );
  const served = servedInWindow / windowSec;
  // Radd's processes and the servers it uses; not the load generator and the fakes.
  const raddCores = Object.entries(cpu.cores)
    .filter(([label]) => label !== 'bench')
    .reduce((sum, [, cores]) => sum + cores, 0);
  perMessage.cpuMs = served > 0 ? (raddCores * 1000) / served : Number.NaN;
  const sustained =
    served >= MIN_SERVED_SHARE * rate &&
    backlogGrowth <= Math.max(3, MAX_BACKLOG_GROWTH_SHARE * rate) &&
    drainedAt !== null;

  const modelTimes = await rig.modelTimes();
  const added: number[] = [];
  const modelMs: number[] = [];
  const measuredTokens = tokens.slice(warm);
  for (const token of measuredTokens) {
    const answeredAt = rig.manychat.tokens.get(token)?.firstAt;
    const sentAt = rig.sentAt.get(token);
    const model = modelTimes.get(token);
    if (answeredAt === undefined || sentAt === undefined || model === undefined) continue;
    added.push(answeredAt - sentAt - model);
    modelMs.push(model);
  }
  const sorted = Float64Array.from(added).sort();
  const acks: number[] = [];
  let retried = 0;
  for (const token of measuredTokens) {
    const record = rig.sender.records.get(rig.mids.get(token) ?? '');
    if (record?.ackedAt === undefined) continue;
    if (record.attempts > 1) retried += 1;
    else acks.push(record.ackedAt - record.firstSentAt);
  }
  const sortedAcks = Float64Array.from(acks).sort();
  const stages = await rig.stages();
  const spans: Record<string, number[]> = {
    'sent→committed': [],
    'committed→stored': [],
    'stored→replied': [],
    'replied→sending': [],
    'sending→at ManyChat': [],
  };
  for (const token of measuredTokens) {
    const at = stages.get(token);
    const sentAt = rig.sentAt.get(token);
    const answeredAt = rig.manychat.tokens.get(token)?.firstAt;
    if (!at || sentAt === undefined || at.replied === undefined || at.sending === undefined) {
      continue;
    }
    if (answeredAt === undefined) continue;
    spans['sent→committed'].push(at.received - sentAt);
    spans['committed→stored'].push(at.stored - at.received);
    spans['stored→replied'].push(at.replied - at.stored);
    spans['replied→sending'].push(at.sending - at.replied);
    spans['sending→at ManyChat'].push(answeredAt - at.sending);
  }
  const stagePercentile = (p: number): Record<string, number> =>
    Object.fromEntries(
      Object.entries(spans).map(([span, values]) => [
        span,
        percentile(Float64Array.from(values).sort(), p),
      ]),
    );
  const stageMedians = stagePercentile(50);
  const stageP99s = stagePercentile(99);
  const failed = [...rig.sender.records.values()].filter((r) => r.gaveUp).length - failedBefore;
  return {
    offered: rate,
    sent: tokens.length,
    windowSec,
    served,
    backlogGrowth,
    queueGrowth,
    maxQueued: Math.max(0, ...samples.map((s) => (Number.isFinite(s.queued) ? s.queued : 0))),
    backlog: inWindow.map((s) => ({
      second: Math.round((s.at - windowStart) / 100) / 10,
      unanswered: s.sent - s.answered,
      queued: s.queued,
    })),
    sustained,
    latency: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
      count: sorted.length,
    },
    ack: {
      p50: percentile(sortedAcks, 50),
      p99: percentile(sortedAcks, 99),
      max: sortedAcks.length ? sortedAcks[sortedAcks.length - 1] : Number.NaN,
      retried,
    },
    modelMsMedian: percentile(Float64Array.from(modelMs).sort(), 50),
    stageMedians,
    stageP99s,
    perMessage,
    drainSec: drainedAt === null ? null : (drainedAt - windowEnd) / 1000,
    failed,
    cpu,
  };
}

function latencyMet(step: StepResult): boolean {
  return step.latency.p50 <= TARGET_P50_MS && step.latency.p99 <= TARGET_P99_MS;
}

function stepRow(step: StepResult): ResultRow {
  const verdict = step.sustained ? 'sustained' : 'NOT sustained';
  return {
    benchmark: NAME,
    variant: `${formatCount(step.offered)} msg/s offered`,
    reqPerSec: step.served,
    p50Ms: step.latency.p50,
    p99Ms: step.latency.p99,
    errors: step.failed,
    non2xx: 0,
    result:
      `${verdict}: backlog ${step.backlogGrowth >= 0 ? '+' : ''}${step.backlogGrowth.toFixed(1)}/s, ` +
      `queued ≤ ${formatCount(step.maxQueued)}` +
      (step.drainSec === null
        ? ', did not drain'
        : `, drained ${step.drainSec.toFixed(1)} s after`) +
      `; latency targets ${latencyMet(step) ? 'met' : 'missed'}`,
  };
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const { workers, rates } = context.options;
  const rig = await PipelineRig.start(context, {
    name: NAME,
    workers,
    merchants: MERCHANTS,
    customersEach: CUSTOMERS_EACH,
    productsEach: context.options.products,
    historyEach: HISTORY_EACH,
    modelMs: context.options.modelMs,
  });
  const meter = new CpuMeter(() => rig.pids());
  // A first reply per merchant warms every code path (and the database's caches) before measuring.
  await rig.waitAnswered(await rig.offer(20, MERCHANTS * 2), 30_000);

  const steps: StepResult[] = [];
  for (const rate of rates) {
    const step = await runStep(context, rig, rate, meter);
    steps.push(step);
    context.progress(
      `${rate} msg/s: served ${step.served.toFixed(0)}/s, added p50 ${formatMs(step.latency.p50)} ms p99 ${formatMs(step.latency.p99)} ms, ` +
        `${step.sustained ? 'sustained' : 'NOT sustained'}; ${describeCpu(step.cpu)}`,
    );
    if (!step.sustained) break;
  }
  await rig.radd.stopAll();
  const logs = Object.fromEntries(
    rig.radd.logFiles.map((file) => [file.split('/').pop() ?? file, summariseLog(file)]),
  );

  const best = steps.filter((s) => s.sustained).at(-1);
  const atTarget = steps.find((s) => s.offered === TARGET_RATE) ?? best;
  const latencySteps = [
    ...new Set([steps.find((s) => s.offered === LATENCY_RATE), atTarget]),
  ].filter((step): step is StepResult => step !== undefined);
  const lines = [
    `${NAME}: highest sustained rate ${best ? `${formatCount(best.offered)} msg/s` : 'none'} ` +
      `(target ≥ ${TARGET_RATE}, stretch ${STRETCH_RATE}) with ${workers} worker process${workers > 1 ? 'es' : ''} and 1 API process; ` +
      `${MERCHANTS} ManyChat merchants × ${CUSTOMERS_EACH} customers with ${HISTORY_EACH} earlier questions each, ${context.options.products} products each, AI_DEBOUNCE_MS=0, ${context.options.modelMs > 0 ? `a model answering in ${context.options.modelMs} ms` : 'zero-latency model'}; ${rig.servers.description}.`,
    ...latencySteps.map(
      (step) =>
        `${NAME}: added latency at ${formatCount(step.offered)} msg/s${step.offered === LATENCY_RATE ? ', normal load (perf-reliability G5)' : ''} ` +
        `(webhook sent → ManyChat send received, minus the model call): ` +
        `p50 ${formatMs(step.latency.p50)} ms (target ≤ ${TARGET_P50_MS}), p99 ${formatMs(step.latency.p99)} ms (target ≤ ${TARGET_P99_MS}), ` +
        `${latencyMet(step) ? 'met' : 'MISSED'}; model call median ${formatMs(step.modelMsMedian)} ms.`,
    ),
    ...steps.map(
      (s) =>
        `${NAME}: ${formatCount(s.offered)} msg/s: webhook answered (G3) p50/p99/max ${formatMs(s.ack.p50)}/${formatMs(s.ack.p99)}/${formatMs(s.ack.max)} ms` +
        `${s.ack.retried > 0 ? `, ${s.ack.retried} retried` : ''}; queue growth ${s.queueGrowth.toFixed(1)} jobs/s; CPU ${describeCpu(s.cpu)}; ` +
        `p50/p99 ms ${Object.entries(s.stageMedians)
          .map(([span, ms]) => `${span} ${formatMs(ms)}/${formatMs(s.stageP99s[span])}`)
          .join(
            ', ',
          )}; per message ${s.perMessage.transactions.toFixed(1)} PostgreSQL transactions, ` +
        `${s.perMessage.redisCommands.toFixed(0)} Redis commands, ${formatMs(s.perMessage.cpuMs)} ms of CPU (Radd's processes, PostgreSQL, Redis)`,
    ),
    `${NAME}: Radd logs: ${Object.entries(logs)
      .map(([file, summary]) => `${file} ${describeLog(summary)}`)
      .join(', ')}`,
  ];
  return {
    name: NAME,
    rows: steps.map(stepRow),
    lines,
    failed: steps.some((s) => s.failed > 0),
    details: {
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      servers: rig.servers.description,
      options: context.options,
      setup: {
        merchants: MERCHANTS,
        customersEach: CUSTOMERS_EACH,
        historyEach: HISTORY_EACH,
        productsEach: context.options.products,
        workers,
        apiProcesses: 1,
        aiDebounceMs: 0,
      },
      targets: {
        rate: TARGET_RATE,
        stretch: STRETCH_RATE,
        p50Ms: TARGET_P50_MS,
        p99Ms: TARGET_P99_MS,
        latencyRate: LATENCY_RATE,
      },
      highestSustained: best?.offered ?? null,
      steps,
      logs,
    },
  };
}

export const pipeline: Benchmark = {
  name: NAME,
  description: `signed DMs of ${MERCHANTS} ManyChat merchants through the queues, a zero-latency model and a fake ManyChat: sustained msg/s and added latency`,
  run,
};

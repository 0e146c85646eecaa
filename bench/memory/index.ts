import { cpus } from 'node:os';
import { residentMemory } from 'bench/lib/processes';
import { PIPELINE_QUEUES, redisPrefixMemory, redisUsedMemory } from 'bench/lib/radd';
import {
  formatCount,
  type BenchContext,
  type Benchmark,
  type BenchmarkReport,
  type ResultRow,
} from 'bench/lib/report';
import { sleep } from 'bench/lib/util';
import { PipelineRig } from 'bench/pipeline/rig';

const NAME = 'memory';
const MERCHANTS = 10;
const CUSTOMERS_EACH = 300;
/** Growth of Radd's Redis keys' memory over the second half of the run that still counts as flat. */
const MAX_REDIS_GROWTH = 0.1;
/** RSS a Node process may reach (perf-reliability G11). */
const MAX_RSS_BYTES = 1024 ** 3;

interface Sample {
  /** Messages sent so far. */
  sent: number;
  answered: number;
  at: number;
  rss: Record<string, number>;
  redisBytes: number;
  redisKeys: number;
  redisUsedMemory: number;
  completed: Record<string, number>;
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

async function sample(rig: PipelineRig, tokens: string[]): Promise<Sample> {
  const { redis } = rig.servers;
  const rss: Record<string, number> = {};
  for (const [label, pid] of Object.entries(rig.pids())) {
    const memory = residentMemory(pid);
    if (memory) rss[label] = memory.rss;
  }
  const [own, usedMemory, depth] = await Promise.all([
    redisPrefixMemory(redis, rig.radd.redisPrefix),
    redisUsedMemory(redis),
    rig.watch.depth(),
  ]);
  return {
    sent: tokens.length,
    answered: rig.answered(tokens),
    at: Date.now(),
    rss,
    redisBytes: own.bytes,
    redisKeys: own.keys,
    redisUsedMemory: usedMemory,
    completed: Object.fromEntries(
      PIPELINE_QUEUES.map((queue) => [queue, depth.byQueue[queue]?.completed ?? 0]),
    ),
  };
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const { workers, messages, rate } = context.options;
  const rig = await PipelineRig.start(context, {
    name: NAME,
    workers,
    merchants: MERCHANTS,
    customersEach: CUSTOMERS_EACH,
    productsEach: context.options.products,
  });
  const start = await sample(rig, []);
  context.progress(
    `${formatCount(messages)} messages at ${rate} msg/s (about ${Math.ceil(messages / rate)} s)`,
  );
  const tokens: string[] = [];
  const samples: Sample[] = [start];
  let sampling = true;
  const marks = [0.25, 0.5, 0.75].map((share) => Math.round(share * messages));
  const sampler = (async () => {
    while (sampling) {
      await sleep(5_000);
      if (!sampling) break;
      const now = await sample(rig, tokens);
      samples.push(now);
      if (marks.some((mark) => now.sent >= mark && samples.at(-2)!.sent < mark)) {
        context.progress(
          `${formatCount(now.sent)} sent, ${formatCount(now.answered)} answered; RSS ${Object.entries(
            now.rss,
          )
            .map(([label, bytes]) => `${label} ${mb(bytes)}`)
            .join(
              ', ',
            )}; Redis keys of the run ${formatCount(now.redisKeys)} (${mb(now.redisBytes)})`,
        );
      }
    }
  })();
  const started = Date.now();
  await rig.offer(rate, messages, (token) => tokens.push(token));
  const drained = await rig.waitAnswered(tokens, 600_000);
  const elapsedSec = ((drained ?? Date.now()) - started) / 1000;
  // Let the queues settle (last completions, trims) before the final reading.
  for (let i = 0; i < 20 && (await rig.watch.depth()).total > 0; i += 1) await sleep(500);
  sampling = false;
  await sampler;
  const end = await sample(rig, tokens);
  samples.push(end);
  const peaks: Record<string, number> = {};
  for (const [label, pid] of Object.entries(rig.pids())) {
    const memory = residentMemory(pid);
    if (memory) peaks[label] = memory.peak;
  }
  await rig.radd.stopAll();

  const half = samples.find((s) => s.sent >= messages / 2) ?? end;
  const redisGrowth = half.redisBytes > 0 ? end.redisBytes / half.redisBytes - 1 : 0;
  const redisBounded = redisGrowth <= MAX_REDIS_GROWTH;
  const quarter = samples.find((s) => s.sent >= messages / 4) ?? end;
  const processes = Object.keys(end.rss).filter((label) => label !== 'bench');
  const rows: ResultRow[] = processes.map((label) => ({
    benchmark: NAME,
    variant: `${label} process RSS`,
    result:
      `${mb(end.rss[label])} after ${formatCount(messages)} msgs (at 25%: ${mb(quarter.rss[label] ?? 0)}, ` +
      `at 50%: ${mb(half.rss[label] ?? 0)}; peak ${mb(peaks[label] ?? 0)})`,
  }));
  const maxCompleted = Math.max(...Object.values(end.completed));
  rows.push({
    benchmark: NAME,
    variant: 'Redis, keys of the run',
    reqPerSec: drained === null ? undefined : messages / elapsedSec,
    result:
      `${mb(end.redisBytes)} in ${formatCount(end.redisKeys)} keys after (at 50%: ${mb(half.redisBytes)}); ` +
      `completed jobs kept ≤ ${formatCount(maxCompleted)} per queue; ${redisBounded ? 'bounded' : 'GROWING'}`,
  });
  const rssOk = processes.every((label) => (peaks[label] ?? 0) <= MAX_RSS_BYTES);
  return {
    name: NAME,
    rows,
    lines: [
      `${NAME}: ${formatCount(messages)} messages offered at ${rate}/s through 1 API and ${workers} worker process${workers > 1 ? 'es' : ''}; ` +
        (drained === null
          ? `NOT all answered within 10 min after the last was sent`
          : `all answered ${elapsedSec.toFixed(0)} s after the first was sent (${(messages / elapsedSec).toFixed(0)} msg/s)`) +
        `; the Redis row's rate is that figure.`,
      `${NAME}: Redis memory of the run's keys grew ${(redisGrowth * 100).toFixed(1)}% over the second half ` +
        `(bounded if ≤ ${MAX_REDIS_GROWTH * 100}%); completed jobs per queue at the end: ${Object.entries(
          end.completed,
        )
          .map(([queue, count]) => `${queue} ${count}`)
          .join(
            ', ',
          )}. Redis used_memory (whole server) ${mb(start.redisUsedMemory)} → ${mb(end.redisUsedMemory)}.`,
      `${NAME}: peak RSS ${rssOk ? 'within' : 'ABOVE'} 1 GiB for every Radd process; the sending process itself ended at ${mb(end.rss.bench ?? 0)}.`,
    ],
    failed: drained === null || !redisBounded || !rssOk,
    details: {
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      servers: rig.servers.description,
      options: context.options,
      elapsedSec,
      redisGrowth,
      peaks,
      samples,
    },
  };
}

export const memory: Benchmark = {
  name: NAME,
  description:
    'RSS of each Radd process and Redis memory after 20,000 messages through the pipeline',
  run,
};

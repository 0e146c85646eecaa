import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { clothesCatalogue } from 'bench/lib/catalogue';
import { customerDm, echoDm, type Shop, type ShopCustomer } from 'bench/lib/dms';
import { FakeManyChat, FakeModel, tokensIn } from 'bench/lib/fakes';
import { QueueWatch, Radd, snapshotDist } from 'bench/lib/radd';
import type { BenchContext } from 'bench/lib/report';
import type { Servers } from 'bench/lib/run-servers';
import { dropDatabase, deleteRedisKeys, withPostgres } from 'bench/lib/stores';
import { sleep } from 'bench/lib/util';
import { atFixedRate, WebhookSender } from 'bench/lib/webhook-sender';

/**
 * Radd settings to try without editing the bench: BENCH_RADD_SETTINGS="DATABASE_POOL_SIZE=40
 * DELIVERY_CONCURRENCY=40" (space-separated NAME=value pairs), applied to every process.
 */
function extraSettings(): Record<string, string> {
  const raw = process.env.BENCH_RADD_SETTINGS?.trim();
  if (!raw) return {};
  return Object.fromEntries(
    raw.split(/\s+/).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`BENCH_RADD_SETTINGS: "${pair}" is not NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** When a message passed each stage (epoch ms; PostgreSQL's clock, transaction start). */
export interface StageTimes {
  /** Its webhook committed to webhook_events (API). */
  received: number;
  /** Stored as a message by process-webhook. */
  stored: number;
  /** Its reply stored by ai-response (after the model call). */
  replied?: number;
  /** The reply's first part marked `sending` by message-delivery (before the provider call). */
  sending?: number;
}

export interface RigOptions {
  /** Names the database, the Redis prefix and the log folder. */
  name: string;
  workers: number;
  merchants: number;
  customersEach: number;
  productsEach: number;
  /** The fake model's answer time in ms (0: at once). */
  modelMs?: number;
  /** Earlier answered questions of every customer (0: a new shop, empty tables). */
  historyEach?: number;
  /** Settings on top of the rig's (which set AI_DEBOUNCE_MS=0 and point at the fakes). */
  settings?: Record<string, string>;
}

/**
 * The whole pipeline under test: Radd (one API process, `workers` worker processes) on its own
 * database and Redis prefix, ManyChat merchants with known subscribers, a zero-latency model and
 * a fake ManyChat in this process, and a sender of signed DMs whose tracking tokens the replies
 * carry back, so that every reply is traced to the messages it answers.
 */
export class PipelineRig {
  /** Token → epoch ms its DM was first sent. */
  readonly sentAt = new Map<string, number>();
  /** Token → mid. */
  readonly mids = new Map<string, string>();
  private sent = 0;
  private readonly runTag = randomBytes(4).toString('hex');

  private constructor(
    readonly radd: Radd,
    readonly model: FakeModel,
    readonly manychat: FakeManyChat,
    readonly shops: Shop[],
    readonly sender: WebhookSender,
    readonly watch: QueueWatch,
    readonly workers: string[],
    readonly servers: Servers,
  ) {}

  static async start(context: BenchContext, options: RigOptions): Promise<PipelineRig> {
    const stamp = Date.now();
    const databaseName = `radd_bench_${options.name.replace(/-/g, '_')}_${stamp}`;
    const redisPrefix = `radd-bench-${options.name}-${stamp}`;
    const servers = await context.servers();
    const { postgres, redis } = servers;
    context.cleanup.add(`drop database ${databaseName}`, () =>
      dropDatabase(postgres, databaseName),
    );
    context.cleanup.add(`delete Redis keys ${redisPrefix}:*`, async () => {
      await deleteRedisKeys(redis, redisPrefix);
    });
    const model = await FakeModel.start();
    model.latencyMs = options.modelMs ?? 0;
    context.cleanup.add('stop the fake model', () => model.close());
    const manychat = await FakeManyChat.start();
    context.cleanup.add('stop the fake ManyChat', () => manychat.close());

    const distDir = await snapshotDist(context.root, join(context.workDir, 'dist-snapshot'));
    context.progress(`creating ${databaseName} and applying migrations`);
    const radd = await Radd.create({
      postgresServerUrl: postgres,
      redisUrl: redis,
      distDir,
      workDir: context.workDir,
      logDir: join(context.workDir, 'logs', options.name),
      databaseName,
      redisPrefix,
      // BENCH_NODE_ARGS="--cpu-prof": profiles land in .bench/ when the processes stop.
      nodeArgs: process.env.BENCH_NODE_ARGS?.trim().split(/\s+/).filter(Boolean),
      settings: {
        AI_DEBOUNCE_MS: '0',
        OPENAI_API_KEY: 'bench-model-key',
        OPENAI_BASE_URL: model.baseUrl,
        MANYCHAT_BASE_URL: manychat.url,
        ...options.settings,
        ...extraSettings(),
      },
    });
    context.cleanup.add('stop Radd', () => radd.stopAll());
    const shops = await radd.seedManyChatShops(
      options.merchants,
      options.customersEach,
      clothesCatalogue(options.productsEach),
    );
    if (options.historyEach) await radd.seedHistory(options.historyEach);
    const workers = Array.from({ length: options.workers }, (_, i) => `worker-${i + 1}`);
    await Promise.all(workers.map((name) => radd.start(name, 'worker')));
    await radd.start('api', 'api');
    const sender = new WebhookSender({
      origin: radd.origin,
      path: '/webhooks/instagram',
      timeoutMs: 10_000,
      redelivery: null,
      maxSockets: 256,
    });
    context.cleanup.add('close the sender', () => sender.close());
    const watch = new QueueWatch(redis, redisPrefix);
    context.cleanup.add('close the queue watch', () => watch.close());
    return new PipelineRig(radd, model, manychat, shops, sender, watch, workers, servers);
  }

  /** The customer of the n-th message: merchants in turn, each merchant's customers in turn. */
  private customerOf(n: number): { shop: Shop; customer: ShopCustomer } {
    const shop = this.shops[n % this.shops.length];
    const customer = shop.customers[Math.floor(n / this.shops.length) % shop.customers.length];
    return { shop, customer };
  }

  /** Sends the next customer message; returns its token. */
  sendNext(): string {
    const n = this.sent;
    this.sent += 1;
    const { shop, customer } = this.customerOf(n);
    const dm = customerDm(shop, customer, n, this.radd.secret, this.runTag);
    this.sentAt.set(dm.token, Date.now());
    this.mids.set(dm.token, dm.mid);
    this.sender.send(dm.delivery);
    return dm.token;
  }

  /** Sends `count` messages at `rate` per second; returns their tokens. */
  async offer(
    rate: number,
    count: number,
    onSent: (token: string, index: number) => void = () => undefined,
  ): Promise<string[]> {
    const tokens: string[] = [];
    await atFixedRate(rate, count, (index) => {
      const token = this.sendNext();
      tokens.push(token);
      onSent(token, index);
    });
    return tokens;
  }

  get sentCount(): number {
    return this.sent;
  }

  /** How many of `tokens` have reached their customer. */
  answered(tokens: readonly string[]): number {
    let count = 0;
    for (const token of tokens) if (this.manychat.tokens.has(token)) count += 1;
    return count;
  }

  /** Waits until every token has reached its customer; the epoch ms it happened, or null. */
  async waitAnswered(tokens: readonly string[], timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.answered(tokens) === tokens.length) return Date.now();
      if (Date.now() > deadline) return null;
      await sleep(100);
    }
  }

  /** Token → the model time of the reply that carried it (as the worker measured the call). */
  async modelTimes(): Promise<Map<string, number>> {
    const rows = await withPostgres(this.radd.databaseUrl, async (client) => {
      const result = await client.query<{ text: string | null; model_ms: string | null }>(
        `SELECT text, meta->'ai'->>'latencyMs' AS model_ms FROM messages
          WHERE direction = 'out' AND sender = 'bot'`,
      );
      return result.rows;
    });
    const times = new Map<string, number>();
    for (const row of rows) {
      const ms = Number(row.model_ms ?? Number.NaN);
      for (const token of tokensIn(row.text ?? '')) times.set(token, ms);
    }
    return times;
  }

  /**
   * Where the time of each message went, from the database's clocks (PostgreSQL's now() is the
   * start of the writing transaction): token → epoch ms of each stage.
   */
  async stages(): Promise<Map<string, StageTimes>> {
    const rows = await withPostgres(this.radd.databaseUrl, async (client) => {
      const result = await client.query<{
        text: string | null;
        received: Date;
        stored: Date;
        replied: Date | null;
        sending: Date | null;
      }>(
        `SELECT m.text, w.received_at AS received, m.created_at AS stored, r.created_at AS replied,
                p.attempted_at AS sending
           FROM messages m
           JOIN inbound_events ie ON ie.merchant_id = m.merchant_id AND ie.kind = 'message' AND ie.event_key = m.mid
           JOIN webhook_events w ON w.id = ie.webhook_event_id
           LEFT JOIN messages r ON r.id = m.answered_by
           LEFT JOIN delivery_parts p ON p.message_id = r.id AND p.seq = 0
          WHERE m.direction = 'in'`,
      );
      return result.rows;
    });
    const stages = new Map<string, StageTimes>();
    for (const row of rows) {
      for (const token of tokensIn(row.text ?? '')) {
        stages.set(token, {
          received: row.received.getTime(),
          stored: row.stored.getTime(),
          replied: row.replied?.getTime(),
          sending: row.sending?.getTime(),
        });
      }
    }
    return stages;
  }

  /**
   * Counters for the cost of a message: transactions of the run's database (pg_stat_database)
   * and commands Redis processed (INFO stats: the whole server, so others' use counts too).
   */
  async counters(): Promise<{ transactions: number; redisCommands: number }> {
    const transactions = await withPostgres(this.radd.databaseUrl, async (client) => {
      const { rows } = await client.query<{ count: string }>(
        `SELECT (xact_commit + xact_rollback)::text AS count FROM pg_stat_database
          WHERE datname = current_database()`,
      );
      return Number(rows[0]?.count ?? Number.NaN);
    });
    const redis = new Redis(this.servers.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const info = await redis.info('stats');
      const commands = Number(/^total_commands_processed:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
      return { transactions, redisCommands: commands };
    } finally {
      redis.disconnect();
    }
  }

  /** Replays Meta's echo of every message ManyChat delivered (off by default). */
  echoDeliveries(): void {
    const bySubscriber = new Map<string, { shop: Shop; customer: ShopCustomer }>();
    for (const shop of this.shops) {
      for (const customer of shop.customers) {
        bySubscriber.set(customer.subscriberId, { shop, customer });
      }
    }
    let echoes = 0;
    this.manychat.onDelivered = (send) => {
      const to = bySubscriber.get(send.subscriberId);
      if (!to) return;
      for (const text of send.texts) {
        echoes += 1;
        const mid = `echo-${this.runTag}-${echoes}`;
        this.sender.send(echoDm(to.shop, to.customer, mid, text, this.radd.secret));
      }
    };
  }

  /** Process ids by label, for CPU and memory readings. */
  pids(): Record<string, number | undefined> {
    const pids: Record<string, number | undefined> = {
      bench: process.pid,
      api: this.radd.processes.get('api')?.process.pid,
    };
    for (const name of this.workers) pids[name] = this.radd.processes.get(name)?.process.pid;
    return pids;
  }
}

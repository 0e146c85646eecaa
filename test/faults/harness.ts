import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { clothesCatalogue } from 'bench/lib/catalogue';
import { customerDm, echoDm, type Shop, type ShopCustomer } from 'bench/lib/dms';
import { FakeManyChat, FakeModel } from 'bench/lib/fakes';
import { summariseLog, type LogSummary } from 'bench/lib/logs';
import { QueueWatch, Radd } from 'bench/lib/radd';
import { withPostgres } from 'bench/lib/stores';
import { errorMessage, sleep } from 'bench/lib/util';
import { META_REDELIVERY, WebhookSender } from 'bench/lib/webhook-sender';
import type { OwnPostgres, OwnRedis } from 'bench/lib/servers';

const MERCHANTS = 10;
/**
 * One message in CHATTY_EVERY comes from a customer who writes several times (their later
 * messages answer for the earlier ones); every other message is its customer's only one, so a
 * reply that is lost cannot be made up for by a later turn of the same conversation.
 */
const CHATTY_EVERY = 4;
const MESSAGES_PER_CHATTY_CUSTOMER = 3;

/** Which customer (shop, index within the shop) writes the n-th message; customers per shop. */
export function messagePlan(
  messages: number,
  merchants: number,
): { plan: Array<{ shop: number; customer: number }>; customersPerShop: number } {
  const perShop = Math.ceil(messages / merchants);
  const chatty = Math.max(1, Math.ceil(perShop / CHATTY_EVERY / MESSAGES_PER_CHATTY_CUSTOMER));
  const fresh = new Array<number>(merchants).fill(chatty);
  const plan = Array.from({ length: messages }, (_, n) => {
    const shop = n % merchants;
    const m = Math.floor(n / merchants);
    if (m % CHATTY_EVERY === CHATTY_EVERY - 1) {
      return { shop, customer: Math.floor(m / CHATTY_EVERY) % chatty };
    }
    fresh[shop] += 1;
    return { shop, customer: fresh[shop] - 1 };
  });
  return { plan, customersPerShop: Math.max(...fresh) };
}
/** Meta's echo of a delivered message reaches Radd this long after the send. */
const ECHO_DELAY_MS = 300;
/** How long the system must stay idle (nothing queued, sent or pending) to count as settled. */
const SETTLED_FOR_MS = 3_000;

/** What every scenario runs on: the servers of the test, the build, where logs go. */
export interface FaultEnvironment {
  postgres: OwnPostgres;
  redis: OwnRedis;
  distDir: string;
  workDir: string;
  logRoot: string;
  /** Customer messages per scenario (300 in CI mode, 2,000 with --full). */
  messages: number;
  /** Seconds over which they are sent. */
  sendSeconds: number;
  /** How long after the fault ends the system gets to settle before the check. */
  settleTimeoutMs: number;
  /** Meta echoes every delivered message back (as it does); off only to check the checker. */
  echoes: boolean;
  progress: (message: string) => void;
}

/** A scenario: a fault injected while the messages are being sent. */
export interface Scenario {
  name: string;
  title: string;
  /** Settings of Radd's processes for this scenario, over the harness's own. */
  settings?: Record<string, string>;
  /** Injects the fault; resolves when it is over (the dependency is back), with notes. */
  inject(run: ScenarioRun): Promise<void>;
}

/** One scenario under way: Radd, the fakes, the sender, and the fault's timeline. */
export class ScenarioRun {
  readonly sentAt = new Map<string, number>();
  readonly tokenOfMid = new Map<string, string>();
  readonly notes: string[] = [];
  faultStart = 0;
  faultEnd = 0;
  sendStart = 0;
  private sent = 0;
  private echoes = 0;
  private readonly plan: Array<{ shop: number; customer: number }>;
  private readonly runTag = randomBytes(4).toString('hex');

  constructor(
    readonly env: FaultEnvironment,
    readonly radd: Radd,
    readonly model: FakeModel,
    readonly manychat: FakeManyChat,
    readonly shops: Shop[],
    readonly sender: WebhookSender,
    readonly watch: QueueWatch,
  ) {
    this.plan = messagePlan(env.messages, shops.length).plan;
  }

  get sentCount(): number {
    return this.sent;
  }

  /** Ms since sending started. */
  get elapsed(): number {
    return Date.now() - this.sendStart;
  }

  note(message: string): void {
    this.notes.push(`${(this.elapsed / 1000).toFixed(1)} s: ${message}`);
    this.env.progress(`  ${message}`);
  }

  /** Sends the next customer message (with Meta-style redelivery until it is acknowledged). */
  sendNext(): void {
    if (this.sent >= this.env.messages) return;
    const n = this.sent;
    this.sent += 1;
    const shop = this.shops[this.plan[n].shop];
    const customer = shop.customers[this.plan[n].customer];
    const dm = customerDm(shop, customer, n, this.radd.secret, this.runTag);
    this.sentAt.set(dm.token, Date.now());
    this.tokenOfMid.set(dm.mid, dm.token);
    this.sender.send(dm.delivery);
  }

  /** Sends every message at an even rate over `sendSeconds`; bursts sent meanwhile count too. */
  async sendAll(): Promise<void> {
    const rate = this.env.messages / this.env.sendSeconds;
    while (this.sent < this.env.messages) {
      const due = Math.min(this.env.messages, Math.floor((this.elapsed / 1000) * rate) + 1);
      while (this.sent < due) this.sendNext();
      await sleep(Math.max(1, Math.min(20, ((this.sent / rate) * 1000 - this.elapsed) | 0)));
    }
  }

  /** Plays Meta: the echo of every message that reached a customer comes back to Radd. */
  echoDeliveries(): void {
    const bySubscriber = new Map<string, { shop: Shop; customer: ShopCustomer }>();
    for (const shop of this.shops) {
      for (const customer of shop.customers) {
        bySubscriber.set(customer.subscriberId, { shop, customer });
      }
    }
    this.manychat.onDelivered = (send) => {
      const to = bySubscriber.get(send.subscriberId);
      if (!to) return;
      for (const text of send.texts) {
        this.echoes += 1;
        const mid = `echo-${this.runTag}-${this.echoes}`;
        setTimeout(
          () => this.sender.send(echoDm(to.shop, to.customer, mid, text, this.radd.secret)),
          ECHO_DELAY_MS,
        );
      }
    };
  }
}

/** Counts of what is still under way in Radd. */
interface Pending {
  unprocessedEvents: number;
  undelivered: number;
  /** Conversations whose reply is still owed (answered, or decided, clears it). */
  owedReplies: number;
  queued: number;
}

async function pending(run: ScenarioRun): Promise<Pending | null> {
  try {
    const counts = await withPostgres(run.radd.databaseUrl, async (client) => {
      const { rows } = await client.query<{
        unprocessed: number;
        undelivered: number;
        owed: number;
      }>(
        `SELECT (SELECT count(*)::int FROM webhook_events WHERE status = 'received') AS unprocessed,
                (SELECT count(*)::int FROM messages
                  WHERE direction = 'out' AND delivery_status IN ('queued', 'unknown')) AS undelivered,
                (SELECT count(*)::int FROM conversations WHERE reply_owed_at IS NOT NULL) AS owed`,
      );
      return rows[0];
    });
    const depth = await run.watch.depth();
    return {
      unprocessedEvents: counts.unprocessed,
      undelivered: counts.undelivered,
      owedReplies: counts.owed,
      queued: depth.total,
    };
  } catch {
    return null;
  }
}

/**
 * Waits until nothing is left to do: every webhook acknowledged (or given up), every stored event
 * processed, every reply settled and none owed, no job waiting, delayed or active, for SETTLED_FOR_MS in a row.
 * Returns whether it settled before the deadline.
 */
async function settle(run: ScenarioRun, deadline: number): Promise<boolean> {
  let idleSince = 0;
  while (Date.now() < deadline) {
    const now = await pending(run);
    const idle =
      run.sender.pending === 0 &&
      now !== null &&
      now.unprocessedEvents === 0 &&
      now.undelivered === 0 &&
      now.owedReplies === 0 &&
      now.queued === 0;
    if (!idle) idleSince = 0;
    else if (idleSince === 0) idleSince = Date.now();
    else if (Date.now() - idleSince >= SETTLED_FOR_MS) return true;
    await sleep(500);
  }
  return false;
}

/** The invariant, message by message. */
export interface Outcome {
  scenario: string;
  title: string;
  messages: number;
  /** Acknowledged (2xx) at the first attempt. */
  firstTry: number;
  /** Needed Meta-style redelivery (the first attempt was not answered 2xx). */
  redelivered: number;
  /** Never acknowledged within the redelivery bound. */
  neverAcknowledged: number;
  /** Not stored, or stored but never answered. */
  lost: number;
  /** Stored more than once, or answered by more than one send. */
  duplicated: number;
  /** Redelivered, then stored once and answered once. */
  recovered: number;
  /** Seconds from the end of the fault until every message sent before it was answered. */
  recoverySec: number | null;
  settled: boolean;
  runtimeSec: number;
  /** Up to five lost and duplicated messages, and the three answered last after their sending. */
  examples: { lost: string[]; duplicated: string[]; slowest: string[] };
  notes: string[];
  fake: {
    model: number;
    manychatReceived: number;
    delivered: number;
    refused: number;
    hung: number;
  };
  logs: Record<string, LogSummary>;
  error?: string;
}

async function check(run: ScenarioRun): Promise<Omit<Outcome, 'settled' | 'runtimeSec' | 'logs'>> {
  const stored = await withPostgres(run.radd.databaseUrl, async (client) => {
    const { rows } = await client.query<{ mid: string; copies: number }>(
      `SELECT mid, count(*)::int AS copies FROM messages
        WHERE direction = 'in' AND mid IS NOT NULL GROUP BY mid`,
    );
    return new Map(rows.map((row) => [row.mid, row.copies]));
  });
  let firstTry = 0;
  let redelivered = 0;
  let neverAcknowledged = 0;
  let recovered = 0;
  const lost: string[] = [];
  const duplicated: string[] = [];
  let recoveryMs = 0;
  const delays: Array<{ token: string; sent: number; answered: number; attempts: number }> = [];
  for (const [mid, token] of run.tokenOfMid) {
    const record = run.sender.records.get(mid);
    const copies = stored.get(mid) ?? 0;
    const answers = run.manychat.tokens.get(token);
    const retried = (record?.attempts ?? 0) > 1 || record?.ackedAt === undefined;
    if (record?.ackedAt === undefined) neverAcknowledged += 1;
    else if (record.attempts === 1) firstTry += 1;
    if (retried) redelivered += 1;
    if (copies > 1 || (answers?.count ?? 0) > 1) {
      duplicated.push(`${token} (stored ${copies}×, answered ${answers?.count ?? 0}×)`);
    } else if (copies === 0 || !answers) {
      // A message never acknowledged and never stored was not lost by Radd: Meta still has it.
      if (record?.ackedAt !== undefined || copies > 0) {
        lost.push(`${token} (stored ${copies}×, answered ${answers?.count ?? 0}×)`);
      }
    } else if (retried) {
      recovered += 1;
    }
    const sentAt = run.sentAt.get(token) ?? 0;
    if (answers && sentAt <= run.faultEnd) {
      recoveryMs = Math.max(recoveryMs, answers.firstAt - run.faultEnd);
    }
    if (answers) {
      delays.push({
        token,
        sent: sentAt - run.sendStart,
        answered: answers.firstAt - run.sendStart,
        attempts: record?.attempts ?? 0,
      });
    }
  }
  const slowest = delays
    .sort((a, b) => b.answered - b.sent - (a.answered - a.sent))
    .slice(0, 3)
    .map(
      (d) =>
        `${d.token} sent at ${(d.sent / 1000).toFixed(1)} s (${d.attempts} attempt${d.attempts === 1 ? '' : 's'}), answered at ${(d.answered / 1000).toFixed(1)} s`,
    );
  return {
    scenario: '',
    title: '',
    messages: run.tokenOfMid.size,
    firstTry,
    redelivered,
    neverAcknowledged,
    lost: lost.length,
    duplicated: duplicated.length,
    recovered,
    recoverySec: lost.length > 0 ? null : Math.max(0, recoveryMs) / 1000,
    examples: { lost: lost.slice(0, 5), duplicated: duplicated.slice(0, 5), slowest },
    notes: run.notes,
    fake: {
      model: run.model.calls,
      manychatReceived: run.manychat.received,
      delivered: run.manychat.delivered,
      refused: run.manychat.refused,
      hung: run.manychat.hung,
    },
  };
}

/** Runs one scenario from a fresh database and an empty Redis to the check of the invariant. */
export async function runScenario(env: FaultEnvironment, scenario: Scenario): Promise<Outcome> {
  const started = Date.now();
  const stamp = Date.now();
  const logDir = join(env.logRoot, scenario.name);
  await env.redis.flush();
  const model = await FakeModel.start();
  const manychat = await FakeManyChat.start();
  let radd: Radd | undefined;
  let sender: WebhookSender | undefined;
  let watch: QueueWatch | undefined;
  try {
    radd = await Radd.create({
      postgresServerUrl: env.postgres.serverUrl,
      redisUrl: env.redis.url,
      distDir: env.distDir,
      workDir: env.workDir,
      logDir,
      databaseName: `radd_faults_${scenario.name.replace(/-/g, '_')}_${stamp}`,
      redisPrefix: `radd-faults-${scenario.name}`,
      settings: {
        OPENAI_API_KEY: 'fault-test-model-key',
        OPENAI_BASE_URL: model.baseUrl,
        MANYCHAT_BASE_URL: manychat.url,
        LOG_LEVEL: 'info',
        ...scenario.settings,
      },
    });
    const shops = await radd.seedManyChatShops(
      MERCHANTS,
      messagePlan(env.messages, MERCHANTS).customersPerShop,
      clothesCatalogue(20),
    );
    await Promise.all([radd.start('worker', 'worker'), radd.start('api', 'api')]);
    sender = new WebhookSender({
      origin: radd.origin,
      path: '/webhooks/instagram',
      timeoutMs: 10_000,
      redelivery: META_REDELIVERY,
      maxSockets: 64,
    });
    watch = new QueueWatch(env.redis.url, radd.redisPrefix);
    const run = new ScenarioRun(env, radd, model, manychat, shops, sender, watch);
    if (env.echoes) run.echoDeliveries();
    run.sendStart = Date.now();
    env.progress(
      `${scenario.name}: sending ${env.messages} messages over ${env.sendSeconds} s while: ${scenario.title}`,
    );
    await Promise.all([run.sendAll(), scenario.inject(run)]);
    if (run.faultEnd === 0) run.faultEnd = Date.now();
    const deadline = Math.max(run.faultEnd, Date.now()) + env.settleTimeoutMs;
    const settled = await settle(run, deadline);
    // Anything still on its way (a late duplicate) has had the settle time to show itself.
    const outcome = await check(run);
    await radd.stopAll();
    const logs = Object.fromEntries(
      radd.logFiles.map((file) => [file.split('/').pop() ?? file, summariseLog(file, 5)]),
    );
    return {
      ...outcome,
      scenario: scenario.name,
      title: scenario.title,
      settled,
      runtimeSec: (Date.now() - started) / 1000,
      logs,
    };
  } catch (error) {
    return {
      scenario: scenario.name,
      title: scenario.title,
      messages: env.messages,
      firstTry: 0,
      redelivered: 0,
      neverAcknowledged: 0,
      lost: 0,
      duplicated: 0,
      recovered: 0,
      recoverySec: null,
      settled: false,
      runtimeSec: (Date.now() - started) / 1000,
      examples: { lost: [], duplicated: [], slowest: [] },
      notes: [],
      fake: { model: 0, manychatReceived: 0, delivered: 0, refused: 0, hung: 0 },
      logs: {},
      error: errorMessage(error),
    };
  } finally {
    sender?.close();
    await watch?.close();
    await radd?.stopAll();
    await model.close();
    await manychat.close();
  }
}

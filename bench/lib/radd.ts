import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BenchProduct } from 'bench/lib/catalogue';
import type { Shop } from 'bench/lib/dms';
import { FAKE_MANYCHAT_KEY, merchantManyChatKey } from 'bench/lib/fakes';
import {
  freePort,
  isRunning,
  killChild,
  runChild,
  startChild,
  stopChild,
  waitReady,
  type Child,
} from 'bench/lib/processes';
import { databaseUrl, withPostgres } from 'bench/lib/stores';
import { sleep } from 'bench/lib/util';
import { readEnvironment } from 'src/config/env';
import { securitySettings } from 'src/config/security.config';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { credentialContext } from 'src/merchant/merchant-directory';

/** Outside APIs that a run does not fake point here: nothing listens, a call fails at once. */
export const NOWHERE = 'http://127.0.0.1:9';

/** The queues of the pipeline (INTERFACE §3.3), in stage order. */
export const PIPELINE_QUEUES = ['process-webhook', 'ai-response', 'message-delivery'] as const;

/**
 * Copies dist/ to a directory of the run's own, so that a rebuild started by anyone while the run
 * goes on (the build empties dist/ first) cannot pull the code from under a process that is
 * restarted mid-run. A build under way is waited for: the copy is taken between two equal
 * readings of dist/.build-stamp (written by scripts/ensure-build.js once a build is complete).
 * Node resolves node_modules by walking up, so the copy lives in the repository.
 */
export async function snapshotDist(root: string, target: string): Promise<string> {
  const source = join(root, 'dist');
  const stampFile = join(source, '.build-stamp');
  const complete = (): boolean =>
    ['main.js', 'database/migrate.main.js', 'config/env.js', 'app.module.js'].every((file) =>
      existsSync(join(source, file)),
    );
  const stamp = (): string | null =>
    existsSync(stampFile) && complete() ? readFileSync(stampFile, 'utf8') : null;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const before = stamp();
    if (before !== null) {
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      try {
        cpSync(source, target, { recursive: true });
        if (stamp() === before) return target;
      } catch {
        // dist/ changed while it was copied: try again
      }
    }
    if (Date.now() > deadline) throw new Error('dist/ is incomplete: build it first');
    await sleep(1_000);
  }
}

export interface RaddOptions {
  /** PostgreSQL server URL (any database; the run's database is created next to it). */
  postgresServerUrl: string;
  redisUrl: string;
  /** The dist/ directory to run (see snapshotDist). */
  distDir: string;
  /** Working directory of the processes; logs go to `<logDir>/<name>.log`. */
  workDir: string;
  logDir: string;
  /** Name of the database to create; must not exist. */
  databaseName: string;
  redisPrefix: string;
  /** Settings on top of the defaults below. */
  settings?: Record<string, string>;
  /** Node options of the api and worker processes (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/**
 * One Radd of a run: its database (migrations applied), its Redis prefix, and any number of api
 * and worker processes started from dist/ with the same settings, which a run may kill and start
 * again. Meta's app secret is `secret`; ManyChat and the model point wherever `settings` say.
 */
export class Radd {
  readonly secret = randomBytes(16).toString('hex');
  readonly databaseUrl: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly started = new Map<string, number>();
  readonly processes = new Map<string, Child>();
  private apiPort = 0;

  private constructor(private readonly options: RaddOptions) {
    this.databaseUrl = databaseUrl(options.postgresServerUrl, options.databaseName);
    this.env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      META_APP_SECRET: this.secret,
      IG_VERIFY_TOKEN: randomBytes(12).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      JWT_SECRET: randomBytes(24).toString('hex'),
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      GRAPH_API_BASE_URL: NOWHERE,
      INSTAGRAM_API_BASE_URL: NOWHERE,
      MANYCHAT_BASE_URL: NOWHERE,
      OPENAI_BASE_URL: NOWHERE,
      MANYCHAT_API_KEY: FAKE_MANYCHAT_KEY,
      ...options.settings,
    };
  }

  /** Creates the database with every migration applied. */
  static async create(options: RaddOptions): Promise<Radd> {
    const radd = new Radd(options);
    await runChild(
      'migrations',
      [join(options.distDir, 'database', 'migrate.main.js')],
      {
        cwd: options.workDir,
        env: radd.env,
        logFile: join(options.logDir, 'migrate.log'),
      },
      90_000,
    );
    return radd;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  get redisPrefix(): string {
    return this.options.redisPrefix;
  }

  /**
   * Starts (or starts again) the process `name` with APP_ROLE `role` and waits until it is
   * ready. API processes share one port, so a restarted API answers where the old one did.
   */
  async start(name: string, role: 'api' | 'worker', timeoutMs = 60_000): Promise<Child> {
    const previous = this.processes.get(name);
    if (previous && isRunning(previous)) throw new Error(`${name} is running`);
    if (role === 'api' && this.apiPort === 0) this.apiPort = await freePort();
    const port = role === 'api' ? this.apiPort : await freePort();
    const run = (this.started.get(name) ?? 0) + 1;
    this.started.set(name, run);
    const args = [...(this.options.nodeArgs ?? []), join(this.options.distDir, 'main.js')];
    const child = startChild(name, args, {
      cwd: this.options.workDir,
      env: {
        ...this.env,
        APP_ROLE: role,
        PORT: String(port),
        WORKER_HEALTH_PORT: String(port),
      },
      logFile: join(this.options.logDir, run === 1 ? `${name}.log` : `${name}.${run}.log`),
    });
    this.processes.set(name, child);
    await waitReady(child, `http://127.0.0.1:${port}/health/live`, timeoutMs);
    return child;
  }

  /** SIGKILL, like a crash. */
  async kill(name: string): Promise<void> {
    const child = this.processes.get(name);
    if (child) await killChild(child, 'SIGKILL');
  }

  /** SIGTERM (graceful), SIGKILL after the grace. */
  async stop(name: string): Promise<void> {
    const child = this.processes.get(name);
    if (child) await stopChild(child, 10_000);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((name) => this.stop(name)));
  }

  /** Log files of every process started so far. */
  get logFiles(): string[] {
    return [...this.started.entries()].flatMap(([name, runs]) =>
      Array.from({ length: runs }, (_, i) =>
        join(this.options.logDir, i === 0 ? `${name}.log` : `${name}.${i + 1}.log`),
      ),
    );
  }

  /**
   * Stores `merchants` ManyChat merchants with `customersEach` customers that have a ManyChat
   * subscriber id, and a catalogue each: the set-up of a merchant whose customers already wrote
   * through ManyChat once (so replies go through sendContent). Each merchant has its own ManyChat
   * API key, as each has its own page (ManyChat paces sendContent per key).
   */
  async seedManyChatShops(
    merchants: number,
    customersEach: number,
    catalogue: readonly BenchProduct[],
  ): Promise<Shop[]> {
    const stamp = String(Date.now()).slice(-8);
    const cipher = new CredentialCipher(
      securitySettings(readEnvironment(this.env, { requireSecrets: false })),
    );
    return withPostgres(this.databaseUrl, async (client) => {
      const shops: Shop[] = [];
      for (let m = 0; m < merchants; m += 1) {
        const accountId = `17841${stamp}${String(m).padStart(4, '0')}`;
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO merchants (name, instagram_account_id, delivery_channel, profile)
           VALUES ($1, $2, 'manychat', $3) RETURNING id`,
          [
            `Bench shop ${m + 1}`,
            accountId,
            JSON.stringify({
              displayName: `متجر ${m + 1}`,
              deliveryInfo: 'التوصيل لكل المحافظات خلال يومين إلى ثلاثة أيام',
              workingHours: 'يوميا من 10 صباحا إلى 10 مساء',
            }),
          ],
        );
        const merchantId = rows[0].id;
        await client.query(`UPDATE merchants SET manychat_api_key = $2 WHERE id = $1`, [
          merchantId,
          cipher.encrypt(merchantManyChatKey(m), credentialContext(merchantId, 'manychatApiKey')),
        ]);
        const customers = Array.from({ length: customersEach }, (_, c) => ({
          igsid: `9${stamp}${String(m).padStart(3, '0')}${String(c).padStart(5, '0')}`,
          subscriberId: `5${stamp}${String(m).padStart(3, '0')}${String(c).padStart(5, '0')}`,
        }));
        await client.query(
          `INSERT INTO customers (merchant_id, igsid, manychat_subscriber_id)
           SELECT $1, * FROM unnest($2::text[], $3::text[])`,
          [merchantId, customers.map((c) => c.igsid), customers.map((c) => c.subscriberId)],
        );
        if (catalogue.length > 0) {
          await client.query(
            `INSERT INTO products (merchant_id, sku, name, description, price, currency, in_stock)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bool[])`,
            [
              merchantId,
              catalogue.map((p) => p.sku),
              catalogue.map((p) => p.name),
              catalogue.map((p) => p.description),
              catalogue.map((p) => p.price),
              catalogue.map((p) => p.currency),
              catalogue.map((p) => p.inStock),
            ],
          );
        }
        shops.push({ merchantId, accountId, customers });
      }
      return shops;
    });
  }

  /**
   * Gives every customer a conversation with `exchanges` earlier questions, each received as a
   * webhook, answered and delivered two days ago, then has PostgreSQL vacuum and analyse the
   * tables, as autovacuum does on a shop that has been running: the pipeline is measured against
   * a database that has a past, without the dead rows of this seeding (the answered questions'
   * update), and statements are planned for tables of that size, not for empty ones. An empty
   * table analysed as empty is a trap: a backend that plans a foreign-key check while the table
   * has a page or two keeps a sequential scan for it until the table is analysed again, and
   * without autovacuum that scan reads the whole growing table on every check.
   */
  async seedHistory(exchanges: number): Promise<void> {
    await withPostgres(this.databaseUrl, async (client) => {
      await client.query(
        `INSERT INTO conversations (merchant_id, customer_id, last_message_at, last_customer_message_at)
         SELECT merchant_id, id, now() - interval '2 days', now() - interval '2 days' FROM customers
         ON CONFLICT (merchant_id, customer_id) DO NOTHING`,
      );
      await client.query(
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, mid, occurred_at)
         SELECT c.merchant_id, c.id, 'in', 'customer', 'text', 'شكد سعر القميص الابيض؟',
                'history-' || c.id || '-' || g, now() - interval '2 days' - make_interval(mins => ($1 - g) * 10)
           FROM conversations c, generate_series(1, $1) g`,
        [exchanges],
      );
      await client.query(
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, delivery_status,
                               channel, occurred_at, answers_through)
         SELECT merchant_id, conversation_id, 'out', 'bot', 'text', 'هلا بيك 🌷 القميص الابيض بـ 25,000 دينار',
                'delivered', 'manychat', occurred_at + interval '5 seconds', id
           FROM messages WHERE direction = 'in' AND mid LIKE 'history-%'`,
      );
      await client.query(
        `UPDATE messages i SET answered_by = o.id FROM messages o
          WHERE o.answers_through = i.id AND i.answered_by IS NULL`,
      );
      // The webhook each earlier question came in, and its event in the ledger.
      await client.query(
        `WITH event AS (
           SELECT md5(m.mid)::uuid AS id, m.merchant_id, mc.instagram_account_id AS account_id, m.mid,
                  m.occurred_at, (extract(epoch FROM m.occurred_at) * 1000)::bigint AS at_ms,
                  json_build_object('sender', json_build_object('id', cu.igsid),
                                    'recipient', json_build_object('id', mc.instagram_account_id),
                                    'timestamp', (extract(epoch FROM m.occurred_at) * 1000)::bigint,
                                    'message', json_build_object('mid', m.mid, 'text', m.text)) AS messaging
             FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
             JOIN customers cu ON cu.id = c.customer_id
             JOIN merchants mc ON mc.id = m.merchant_id
            WHERE m.direction = 'in' AND m.mid LIKE 'history-%'
         ), webhook AS (
           INSERT INTO webhook_events (id, source, merchant_id, raw_body, status, attempts, received_at, processed_at)
           SELECT id, 'instagram', merchant_id,
                  convert_to(json_build_object('object', 'instagram', 'entry', json_build_array(json_build_object(
                    'id', account_id, 'time', at_ms, 'messaging', json_build_array(messaging))))::text, 'UTF8'),
                  'processed', 1, occurred_at, occurred_at + interval '1 second'
             FROM event
         )
         INSERT INTO inbound_events (webhook_event_id, merchant_id, account_id, kind, event_key, status, occurred_at, payload)
         SELECT id, merchant_id, account_id, 'message', mid, 'applied', occurred_at, messaging::jsonb FROM event`,
      );
      await client.query(
        `INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, status, attempts, attempted_at)
         SELECT merchant_id, id, 0, 'text', text, 'delivered', 1, occurred_at FROM messages WHERE direction = 'out'`,
      );
      await client.query('VACUUM ANALYZE');
    });
  }
}

/** Jobs of each pipeline queue by state, read by BullMQ itself. */
export class QueueWatch {
  private readonly queues: Queue[];

  constructor(redisUrl: string, prefix: string) {
    const url = new URL(redisUrl);
    this.queues = PIPELINE_QUEUES.map(
      (name) =>
        new Queue(name, {
          prefix,
          connection: {
            host: url.hostname,
            port: Number(url.port || 6379),
            maxRetriesPerRequest: 1,
            enableOfflineQueue: false,
            retryStrategy: () => 1_000,
          },
        }),
    );
    for (const queue of this.queues) queue.on('error', () => undefined);
  }

  /** waiting + delayed + active + prioritized per queue, and the states summed over queues. */
  async depth(): Promise<{ total: number; byQueue: Record<string, Record<string, number>> }> {
    const byQueue: Record<string, Record<string, number>> = {};
    let total = 0;
    for (const queue of this.queues) {
      const counts = await queue.getJobCounts(
        'waiting',
        'delayed',
        'active',
        'prioritized',
        'completed',
        'failed',
      );
      byQueue[queue.name] = counts;
      total +=
        (counts.waiting ?? 0) +
        (counts.delayed ?? 0) +
        (counts.active ?? 0) +
        (counts.prioritized ?? 0);
    }
    return { total, byQueue };
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close().catch(() => undefined)));
  }
}

/** Redis's whole-server memory in use (INFO memory `used_memory`), shared with its other users. */
export async function redisUsedMemory(redisUrl: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const info = await redis.info('memory');
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
  } finally {
    redis.disconnect();
  }
}

/**
 * Bytes Redis holds for the keys under `prefix` (MEMORY USAGE of each, exact), and their number:
 * the run's own share of a Redis that other users may share.
 */
export async function redisPrefixMemory(
  redisUrl: string,
  prefix: string,
): Promise<{ bytes: number; keys: number }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let bytes = 0;
    let keys = 0;
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys += found.length;
      if (found.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const key of found) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      for (const [error, size] of (await pipeline.exec()) ?? []) {
        if (!error) bytes += Number(size ?? 0);
      }
    } while (cursor !== '0');
    return { bytes, keys };
  } finally {
    redis.disconnect();
  }
}

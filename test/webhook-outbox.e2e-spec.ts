import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { QueueName } from 'src/queue/queue.constants';
import { OutboxSweeper } from 'src/webhook/outbox.sweeper';
import { startApp, type TestApp } from 'test/utils/app';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';
import { OwnRedis } from 'test/utils/redis-server';

describe('Instagram webhook: Redis down after the commit (e2e)', () => {
  let redis: OwnRedis;
  let radd: TestApp;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    radd = await startApp({ REDIS_URL: redis.url, OUTBOX_SWEEP_MS: '1000', AI_DEBOUNCE_MS: '0' });
  });
  afterAll(async () => {
    await radd.close();
    await redis.kill();
  });

  it('answers 200 while Redis is down, and processes the event once Redis is back', async () => {
    const merchant = await createMerchant(radd.app);
    await redis.kill();

    const body = textDm(merchant.instagramAccountId, 'c-outage', 'm-outage', 'اكو توصيل للموصل؟');
    const started = Date.now();
    const res = await postSigned(radd.url, body);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('EVENT_RECEIVED');
    expect(Date.now() - started).toBeLessThan(1_000);

    const status = async () => {
      const [row] = await database(radd.app).query<Array<{ status: string }>>(
        `SELECT status FROM webhook_events WHERE raw_body = $1`,
        [Buffer.from(body)],
      );
      return row?.status;
    };
    expect(await status()).toBe('received');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await status()).toBe('received');

    const back = Date.now();
    await redis.restart();
    await eventually(
      async () => ((await status()) === 'processed' ? true : undefined),
      60_000,
      'processing after the outage',
    );
    const recovery = Date.now() - back;
    expect(recovery).toBeLessThan(60_000);

    const messages = await database(radd.app).query<Array<{ text: string }>>(
      `SELECT text FROM messages WHERE merchant_id = $1 AND direction = 'in'`,
      [merchant.id],
    );
    expect(messages).toEqual([{ text: 'اكو توصيل للموصل؟' }]);
  }, 90_000);
});

describe('Redis back from an outage without its data (e2e)', () => {
  let redis: OwnRedis;
  let radd: TestApp;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    // No periodic sweep within the test, and reply jobs that wait a minute: only Redis coming
    // back can set things moving again in time.
    radd = await startApp({
      REDIS_URL: redis.url,
      OUTBOX_SWEEP_MS: '600000',
      AI_DEBOUNCE_MS: '60000',
    });
  });
  afterAll(async () => {
    await radd.close();
    await redis.kill();
  });

  it('queues again at once the events stored meanwhile and the replies whose jobs were lost', async () => {
    const merchant = await createMerchant(radd.app);
    const db = database(radd.app);
    const before = textDm(merchant.instagramAccountId, 'c-before', 'm-before', 'شكد سعر الجاكيت؟');
    expect((await postSigned(radd.url, before)).status).toBe(200);
    const owed = async (customer: string) => {
      const [row] = await db.query<Array<{ id: string; reply_owed_at: Date | null }>>(
        `SELECT c.id, c.reply_owed_at FROM conversations c JOIN customers cu ON cu.id = c.customer_id
          WHERE c.merchant_id = $1 AND cu.igsid = $2`,
        [merchant.id, customer],
      );
      return row;
    };
    const conversation = await eventually(async () => {
      const row = await owed('c-before');
      return row?.reply_owed_at ? row : undefined;
    });

    await redis.kill();
    const during = textDm(merchant.instagramAccountId, 'c-during', 'm-during', 'اكو قياس XL؟');
    expect((await postSigned(radd.url, during)).status).toBe(200);

    // Back, empty: the reply job of the first DM and the queueing of the second are gone.
    await redis.restart();
    await eventually(
      async () => ((await owed('c-during'))?.reply_owed_at ? true : undefined),
      15_000,
      'the event stored during the outage, processed',
    );
    await eventually(
      async () => {
        const [{ bot }] = await db.query<Array<{ bot: number }>>(
          `SELECT count(*)::int AS bot FROM messages WHERE conversation_id = $1 AND sender = 'bot'`,
          [conversation.id],
        );
        return bot > 0 ? bot : undefined;
      },
      15_000,
      'the reply owed before the outage',
    );
    const [{ bot }] = await db.query<Array<{ bot: number }>>(
      `SELECT count(*)::int AS bot FROM messages WHERE conversation_id = $1 AND sender = 'bot'`,
      [conversation.id],
    );
    expect(bot).toBe(1);
  }, 60_000);
});

describe('Outbox sweeper: more events than a page (e2e)', () => {
  let redis: OwnRedis;
  let radd: TestApp;
  const ours: string[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.start();
    // The API role alone: no worker takes the jobs, so they stay queued. No periodic sweep within
    // the test: each pass is the test's, or Redis coming back.
    radd = await startApp({ APP_ROLE: 'api', REDIS_URL: redis.url, OUTBOX_SWEEP_MS: '600000' });
  });
  afterAll(async () => {
    // Out of the way of whatever runs on this database next.
    await database(radd.app).query(
      `UPDATE webhook_events SET status = 'processed' WHERE id = ANY($1)`,
      [ours],
    );
    await radd.close();
    await redis.kill();
  });

  /** Stores events as the API would, `secondsAgo` old (1 ms apart), with no job; returns ids. */
  const storeEvents = async (count: number, secondsAgo: number): Promise<string[]> => {
    const rows = await database(radd.app).query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (source, raw_body, received_at)
       SELECT 'instagram', convert_to('{"object":"instagram","entry":[]}', 'UTF8'),
              now() - make_interval(secs => $2) - n * interval '1 ms'
         FROM generate_series(1, $1::int) AS n RETURNING id`,
      [count, secondsAgo],
    );
    const ids = rows.map((row) => row.id);
    ours.push(...ids);
    return ids;
  };
  const jobs = () => queue(radd.app, QueueName.ProcessWebhook);
  const withoutJob = async (ids: string[]): Promise<number> => {
    const states = await Promise.all(ids.map((id) => jobs().getJobState(id)));
    return states.filter((state) => state === 'unknown').length;
  };

  it('reaches an event whose job was lost behind more than a page of events still queued', async () => {
    // 500 older events waiting for the worker with their jobs (a backlog), then one whose add
    // was lost.
    const waiting = await storeEvents(500, 120);
    await jobs().addBulk(
      waiting.map((id) => ({
        name: 'instagram',
        data: { webhookEventId: id },
        opts: { jobId: id },
      })),
    );
    const [lost] = await storeEvents(1, 30);
    const sweeper = radd.app.get(OutboxSweeper);
    // The second sweep reads the page after the backlog. A sweep asked for while another runs
    // (the pass at start-up, when Redis became reachable, late on a busy machine) returns at once,
    // so the sweeps are spaced out; a sweep that always began at the oldest page would never reach
    // the lost event, however many.
    let passes = 0;
    while ((await jobs().getJobState(lost)) === 'unknown' && passes < 20) {
      await sweeper.sweep();
      passes += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await jobs().getJobState(lost)).toBe('waiting');
  });

  it('retries, with all their attempts, jobs that failed for good while their events wait', async () => {
    // 100 events whose jobs failed at their last attempt while storage was away: the events
    // stay `received`, the jobs stay failed under the events' ids.
    const failing = await storeEvents(100, 60);
    // Only these for the failing worker below: the last test's jobs go (their events stay).
    await jobs().drain(true);
    await jobs().addBulk(
      failing.map((id) => ({
        name: 'instagram',
        data: { webhookEventId: id },
        opts: { jobId: id, attempts: 1 },
      })),
    );
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const storageAway = new Worker(
      QueueName.ProcessWebhook,
      () => Promise.reject(new Error('Connection terminated unexpectedly')),
      { connection, prefix: process.env.REDIS_PREFIX ?? '' },
    );
    try {
      await eventually(async () =>
        (await jobs().getFailedCount()) >= failing.length ? true : undefined,
      );
    } finally {
      await storageAway.close();
      connection.disconnect();
    }

    let passes = 0;
    while ((await jobs().getFailedCount()) > 0 && passes < 3) {
      await radd.app.get(OutboxSweeper).sweep();
      passes += 1;
    }
    const states = await Promise.all(failing.map((id) => jobs().getJobState(id)));
    expect(new Set(states)).toEqual(new Set(['waiting']));
    const retried = await jobs().getJob(failing[0]);
    expect(retried?.attemptsMade).toBe(0);
  });

  it('queues every page of what was stored during an outage as soon as Redis is back', async () => {
    await redis.kill();
    // Stored while Redis was away: each request's add failed.
    const stored = await storeEvents(1_100, 10);
    await redis.restart();
    await eventually(
      // The test's own reads fail until its queue connection is back too.
      async () => ((await withoutJob(stored).catch(() => -1)) === 0 ? true : undefined),
      20_000,
      'every event stored during the outage queued',
    );
  }, 40_000);
});

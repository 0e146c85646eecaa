import Redis from 'ioredis';
import { QueueName } from 'src/queue/queue.constants';
import { RedisService } from 'src/redis/redis.service';
import { OutboxSweeper } from 'src/webhook/outbox.sweeper';
import { WebhookBacklog } from 'src/webhook/webhook-backlog';
import { startApp, type TestApp } from 'test/utils/app';
import { OwnRedis } from 'test/utils/redis-server';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';

const LIMIT = 5;
const SETTINGS = {
  WEBHOOK_QUEUE_LIMIT: String(LIMIT),
  // No periodic sweep within a test: only Redis coming back and the passes over held events queue.
  OUTBOX_SWEEP_MS: '600000',
  AI_DEBOUNCE_MS: '600000',
};

/** Jobs the process-webhook queue holds that no worker has taken (waiting or delayed). */
async function queued(radd: TestApp): Promise<number> {
  const counts = await queue(radd.app, QueueName.ProcessWebhook).getJobCounts(
    'waiting',
    'prioritized',
    'delayed',
  );
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function statuses(radd: TestApp, merchantAccount: string): Promise<string[]> {
  const rows = await database(radd.app).query<Array<{ status: string }>>(
    `SELECT status FROM webhook_events WHERE convert_from(raw_body, 'UTF8') LIKE $1
      ORDER BY received_at, id`,
    [`%${merchantAccount}%`],
  );
  return rows.map((row) => row.status);
}

describe('WEBHOOK_QUEUE_LIMIT: a flood waits in PostgreSQL, not in Redis (e2e)', () => {
  it('holds events past the limit, acknowledged and stored, and queues them oldest first as the workers make room', async () => {
    const settings = SETTINGS;
    const api = await startApp({ ...settings, APP_ROLE: 'api' });
    const prefix = process.env.REDIS_PREFIX ?? '';
    const redis = new Redis(process.env.REDIS_URL ?? '');
    let worker: TestApp | undefined;
    try {
      const merchant = await createMerchant(api.app);
      const account = merchant.instagramAccountId;
      // The API has read the queue (a process still connecting to Redis queues nothing itself).
      const backlog = api.app.get(WebhookBacklog);
      await eventually(() =>
        Promise.resolve(
          api.app.get(RedisService).reachable() && backlog.room() === LIMIT ? true : undefined,
        ),
      );
      const start = Date.now();
      for (let n = 0; n < 12; n += 1) {
        const body = textDm(account, `c-flood-${n % 3}`, `m-flood-${n}`, `سؤال ${n}`, start + n);
        expect((await postSigned(api.url, body)).status).toBe(200);
      }
      // Every event is stored; the queue holds the limit, and the rest are held.
      expect(await statuses(api, account)).toEqual(Array(12).fill('received'));
      expect(await queued(api)).toBe(LIMIT);
      expect(await redis.get(`${prefix}:webhooks:held-from`)).not.toBeNull();
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toMatch(/radd_webhooks_held_total\{source="instagram"\} 7\b/);

      // With no room, a pass over held events queues none.
      expect(await api.app.get(OutboxSweeper).feed()).toBe(0);
      expect(await queued(api)).toBe(LIMIT);

      // A worker takes jobs; the passes over held events fill the room it makes, never past it.
      worker = await startApp({ ...settings, APP_ROLE: 'worker', REDIS_PREFIX: prefix });
      let deepest = 0;
      await eventually(
        async () => {
          deepest = Math.max(deepest, await queued(api));
          const now = await statuses(api, account);
          return now.every((status) => status === 'processed') ? true : undefined;
        },
        30_000,
        'every held event processed',
      );
      expect(deepest).toBeLessThanOrEqual(LIMIT);
      const stored = await database(api.app).query<Array<{ mid: string }>>(
        `SELECT mid FROM messages WHERE merchant_id = $1 AND direction = 'in' ORDER BY occurred_at`,
        [merchant.id],
      );
      expect(stored.map((row) => row.mid)).toEqual(
        Array.from({ length: 12 }, (_, n) => `m-flood-${n}`),
      );
      // Queued in the order they were stored: the held ones did not overtake one another.
      const events = await database(api.app).query<Array<{ id: string }>>(
        `SELECT id FROM webhook_events WHERE convert_from(raw_body, 'UTF8') LIKE $1
          ORDER BY received_at, id`,
        [`%${account}%`],
      );
      const jobs = queue(api.app, QueueName.ProcessWebhook);
      const addedAt = await Promise.all(
        events.map(async (event) => (await jobs.getJob(event.id))?.timestamp ?? Number.NaN),
      );
      expect(addedAt).toEqual([...addedAt].sort((a, b) => a - b));

      // Nothing held any more: a new event is queued by its request again.
      await eventually(async () =>
        (await redis.get(`${prefix}:webhooks:held-from`)) === null ? true : undefined,
      );
      await worker.close();
      worker = undefined;
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const body = textDm(account, 'c-after', 'm-after', 'بعد');
      expect((await postSigned(api.url, body)).status).toBe(200);
      await eventually(async () => ((await queued(api)) === 1 ? true : undefined), 2_000);
    } finally {
      redis.disconnect();
      await worker?.close();
      await api.close();
    }
  }, 60_000);

  it('queues at most the limit when Redis comes back to events stored while it was away, and holds the rest', async () => {
    const redis = await OwnRedis.start();
    const settings = { ...SETTINGS, REDIS_URL: redis.url };
    const api = await startApp({ ...settings, APP_ROLE: 'api' });
    const prefix = process.env.REDIS_PREFIX ?? '';
    let worker: TestApp | undefined;
    try {
      const merchant = await createMerchant(api.app);
      const account = merchant.instagramAccountId;
      await redis.kill();
      const start = Date.now();
      for (let n = 0; n < 12; n += 1) {
        const body = textDm(account, `c-away-${n % 4}`, `m-away-${n}`, `وينكم ${n}`, start + n);
        expect((await postSigned(api.url, body)).status).toBe(200);
      }
      expect(await statuses(api, account)).toEqual(Array(12).fill('received'));

      await redis.restart();
      // The queue's connection may not be back yet for the first looks.
      const depth = () => queued(api).catch(() => Number.NaN);
      await eventually(async () => ((await depth()) === LIMIT ? true : undefined), 15_000);
      const held = new Redis(redis.url);
      try {
        expect(await held.get(`${prefix}:webhooks:held-from`)).not.toBeNull();
      } finally {
        held.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await queued(api)).toBe(LIMIT);

      worker = await startApp({ ...settings, APP_ROLE: 'worker', REDIS_PREFIX: prefix });
      await eventually(
        async () => {
          expect(await queued(api)).toBeLessThanOrEqual(LIMIT);
          const now = await statuses(api, account);
          return now.every((status) => status === 'processed') ? true : undefined;
        },
        30_000,
        'every event processed',
      );
      const [{ count }] = await database(api.app).query<Array<{ count: number }>>(
        `SELECT count(DISTINCT mid)::int AS count FROM messages WHERE merchant_id = $1`,
        [merchant.id],
      );
      expect(count).toBe(12);
    } finally {
      await worker?.close();
      await api.close();
      await redis.kill();
    }
  }, 90_000);
});

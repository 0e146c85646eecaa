import { WorkerHost } from '@nestjs/bullmq';
import { DiscoveryService } from '@nestjs/core';
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { QueueName, WORKER_LOCK_OPTIONS } from 'src/queue/queue.constants';
import { startApp, type TestApp } from 'test/utils/app';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';

async function eventStatus(radd: TestApp, body: string): Promise<string | undefined> {
  const [row] = await database(radd.app).query<Array<{ status: string }>>(
    `SELECT status FROM webhook_events WHERE raw_body = $1`,
    [Buffer.from(body)],
  );
  return row?.status;
}

describe('process roles (e2e)', () => {
  it('an api process serves the webhook and only queues; a worker process serves health only and does the work', async () => {
    const api = await startApp({ APP_ROLE: 'api' });
    const prefix = process.env.REDIS_PREFIX ?? '';
    let worker: TestApp | undefined;
    try {
      const merchant = await createMerchant(api.app);
      const body = textDm(merchant.instagramAccountId, 'c-roles', 'm-roles', 'هلا');
      expect((await postSigned(api.url, body)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await eventStatus(api, body)).toBe('received');
      expect(await queue(api.app, QueueName.ProcessWebhook).getWaitingCount()).toBe(1);

      // Same Redis prefix: the worker takes the queued job.
      worker = await startApp({ APP_ROLE: 'worker', REDIS_PREFIX: prefix });
      expect((await fetch(`${worker.url}/health/ready`)).status).toBe(200);
      expect((await postSigned(worker.url, body)).status).toBe(404);
      await eventually(async () =>
        (await eventStatus(api, body)) === 'processed' ? true : undefined,
      );
    } finally {
      await worker?.close();
      await api.close();
    }
  });

  it('a job whose worker dies mid-job runs again within three stall checks of a worker running, counted as stalled', async () => {
    const api = await startApp({ APP_ROLE: 'api' });
    const prefix = process.env.REDIS_PREFIX ?? '';
    const connection = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
    let worker: TestApp | undefined;
    try {
      const merchant = await createMerchant(api.app);
      const body = textDm(merchant.instagramAccountId, 'c-crash', 'm-crash', 'شكد السعر؟');
      expect((await postSigned(api.url, body)).status).toBe(200);

      // A worker with Radd's lock settings takes the job and dies with it: its lock is never
      // renewed or released, and the job stays active.
      let taken: () => void = () => undefined;
      const tookIt = new Promise<void>((resolve) => (taken = resolve));
      const dying = new Worker(
        QueueName.ProcessWebhook,
        () => {
          taken();
          return new Promise<never>(() => undefined);
        },
        { connection, prefix, ...WORKER_LOCK_OPTIONS },
      );
      await tookIt;
      await dying.close(true);
      expect(await queue(api.app, QueueName.ProcessWebhook).getActiveCount()).toBe(1);

      worker = await startApp({ APP_ROLE: 'worker', REDIS_PREFIX: prefix });
      // Counted from a worker running, not from the death: how long a process takes to start
      // depends on the machine. The dead lock lapses within the first stall check's interval;
      // one check marks the job, the next moves it. The new worker's first check is skipped
      // when the dying worker checked less than an interval before, and BullMQ skips one of its
      // own checks now and then: the timer that schedules it can fire a few milliseconds before
      // the Redis key that spaces checks lapses. Three checks, then, and the job's own run.
      const runningAt = Date.now();
      await eventually(
        async () => ((await eventStatus(api, body)) === 'processed' ? true : undefined),
        30_000,
        'the job of the dead worker',
      );
      const { lockDuration, stalledInterval } = WORKER_LOCK_OPTIONS;
      expect(lockDuration).toBeLessThanOrEqual(stalledInterval);
      expect(Date.now() - runningAt).toBeLessThan(3 * stalledInterval + 1_500);
      const metrics = await (await fetch(`${worker.url}/metrics`)).text();
      expect(metrics).toContain('radd_jobs_total{queue="process-webhook",outcome="stalled"} 1');
    } finally {
      await worker?.close();
      await api.close();
      connection.disconnect();
    }
  }, 45_000);

  it('runs exactly one worker per queue in a process', async () => {
    const radd = await startApp();
    try {
      const workers = radd.app
        .get(DiscoveryService)
        .getProviders()
        .map((wrapper) => wrapper.instance as unknown)
        .filter((instance): instance is WorkerHost => instance instanceof WorkerHost)
        .map((host) => host.worker.name)
        .sort();
      expect(workers).toEqual(['ai-response', 'cleanup', 'message-delivery', 'process-webhook']);
    } finally {
      await radd.close();
    }
  });

  it('queue workers wait out a Redis outage; an api process queues on connections that fail fast', async () => {
    const api = await startApp({ APP_ROLE: 'api' });
    const worker = await startApp({ APP_ROLE: 'worker' });
    try {
      const offlineQueue = (app: TestApp['app'], name: string) =>
        (queue(app, name).opts.connection as { enableOfflineQueue?: boolean }).enableOfflineQueue;
      expect(offlineQueue(api.app, QueueName.ProcessWebhook)).toBe(false);
      expect(offlineQueue(api.app, QueueName.MessageDelivery)).toBe(false);
      const hosts = worker.app
        .get(DiscoveryService)
        .getProviders()
        .map((wrapper) => wrapper.instance as unknown)
        .filter((instance): instance is WorkerHost => instance instanceof WorkerHost);
      expect(hosts).toHaveLength(4);
      for (const host of hosts) {
        const connection = host.worker.opts.connection as { enableOfflineQueue?: boolean };
        expect(connection.enableOfflineQueue).not.toBe(false);
      }
    } finally {
      await worker.close();
      await api.close();
    }
  });

  it('a worker being shut down finishes the job it is running before it stops', async () => {
    const radd = await startApp();
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-drain', 'm-drain', 'شكد السعر؟');
    // Hold the merchant's row so the job blocks mid-way (its customer insert waits on the lock).
    const blocker = new Client({ connectionString: process.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM merchants WHERE id = $1 FOR UPDATE', [merchant.id]);
    try {
      expect((await postSigned(radd.url, body)).status).toBe(200);
      await eventually(async () =>
        (await queue(radd.app, QueueName.ProcessWebhook).getActiveCount()) === 1 ? true : undefined,
      );

      let closed = false;
      const closing = radd.close().then(() => {
        closed = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(closed).toBe(false);
      await blocker.query('COMMIT');
      await closing;
    } finally {
      await blocker.end();
    }
    const check = new Client({ connectionString: process.env.DATABASE_URL });
    await check.connect();
    try {
      const { rows } = await check.query<{ status: string }>(
        `SELECT status FROM webhook_events WHERE raw_body = $1`,
        [Buffer.from(body)],
      );
      expect(rows).toEqual([{ status: 'processed' }]);
    } finally {
      await check.end();
    }
  });
});

describe('a worker process stopped with SIGTERM (e2e)', () => {
  it('finishes what it runs, leaves the rest queued, and a new worker does every job once', async () => {
    const { startBuiltServer } = await import('test/utils/built-server');
    const api = await startApp({ APP_ROLE: 'api', AI_DEBOUNCE_MS: '600000' });
    const prefix = process.env.REDIS_PREFIX ?? '';
    try {
      const merchant = await createMerchant(api.app);
      const total = 150;
      const bodies = Array.from({ length: total }, (_, i) =>
        textDm(
          merchant.instagramAccountId,
          `c-term-${i % 30}`,
          `m-term-${i}`,
          `رسالة ${i}`,
          Date.now() + i,
        ),
      );
      for (const body of bodies) expect((await postSigned(api.url, body)).status).toBe(200);

      const processed = async () => {
        const [row] = await database(api.app).query<Array<{ count: string }>>(
          `SELECT count(*) FROM webhook_events WHERE status = 'processed' AND raw_body = ANY($1::bytea[])`,
          [bodies.map((body) => Buffer.from(body))],
        );
        return Number(row.count);
      };
      const first = await startBuiltServer({
        APP_ROLE: 'worker',
        REDIS_PREFIX: prefix,
        AI_DEBOUNCE_MS: '600000',
      });
      await eventually(async () => ((await processed()) > 0 ? true : undefined), 20_000);
      // Nest closes everything (draining the workers), then ends the process with the same signal.
      const ended = await first.stop('SIGTERM');
      expect(ended.code === 0 || ended.signal === 'SIGTERM').toBe(true);
      const afterFirst = await processed();
      const webhookQueue = queue(api.app, QueueName.ProcessWebhook);
      expect(await webhookQueue.getActiveCount()).toBe(0);
      expect(await webhookQueue.getFailedCount()).toBe(0);

      const second = await startBuiltServer({
        APP_ROLE: 'worker',
        REDIS_PREFIX: prefix,
        AI_DEBOUNCE_MS: '600000',
      });
      try {
        await eventually(
          async () => ((await processed()) === total ? true : undefined),
          60_000,
          'every event processed',
        );
      } finally {
        await second.stop();
      }
      const [counts] = await database(api.app).query<Array<{ messages: string; distinct: string }>>(
        `SELECT count(*) AS messages, count(DISTINCT mid) AS distinct FROM messages WHERE merchant_id = $1`,
        [merchant.id],
      );
      expect(counts).toEqual({ messages: String(total), distinct: String(total) });
      process.stdout.write(
        `SIGTERM drain: ${afterFirst}/${total} done by the first worker, the rest by the second\n`,
      );
    } finally {
      await api.close();
    }
  }, 150_000);
});

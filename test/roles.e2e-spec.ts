import { Client } from 'pg';
import { QueueName } from 'src/queue/queue.constants';
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

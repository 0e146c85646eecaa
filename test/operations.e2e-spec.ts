import { TokenService } from 'src/auth/token.service';
import { rowsOf } from 'src/database/sql';
import { CleanupService } from 'src/operations/cleanup.service';
import { QueueManager } from 'src/queue/queue-manager';
import { QueueName } from 'src/queue/queue.constants';
import { startApp, type TestApp } from 'test/utils/app';
import { startBuiltServer } from 'test/utils/built-server';
import { AUTH_FAILURES_PER_MINUTE } from 'src/webhook/auth-failure.limiter';
import { createMerchant, database, eventually, postSigned, textDm } from 'test/utils/instagram';

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && row.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('operations (e2e)', () => {
  let radd: TestApp;
  beforeAll(async () => {
    radd = await startApp({ AI_DEBOUNCE_MS: '60000', WEBHOOK_RETENTION_DAYS: '30' });
  });
  afterAll(() => radd.close());

  const scrape = async () => (await fetch(`${radd.url}/metrics`)).text();

  it('serves Prometheus metrics that a webhook moves, with bounded labels', async () => {
    const before = await scrape();
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-metrics', 'm-metrics', 'هلا');
    expect((await postSigned(radd.url, body)).status).toBe(200);
    expect((await postSigned(radd.url, body, { secret: 'forged' })).status).toBe(401);
    await eventually(async () => {
      const [row] = await database(radd.app).query<Array<{ status: string }>>(
        `SELECT status FROM webhook_events WHERE raw_body = $1`,
        [Buffer.from(body)],
      );
      return row?.status === 'processed' ? true : undefined;
    });
    const after = await eventually(async () => {
      const text = await scrape();
      return metricValue(
        text,
        'radd_jobs_total',
        `queue="${QueueName.ProcessWebhook}",outcome="completed"`,
      ) >
        metricValue(
          before,
          'radd_jobs_total',
          `queue="${QueueName.ProcessWebhook}",outcome="completed"`,
        )
        ? text
        : undefined;
    });
    const res = await fetch(`${radd.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const outcome of ['accepted', 'forged']) {
      const label = `source="instagram",outcome="${outcome}"`;
      expect(metricValue(after, 'radd_webhook_requests_total', label)).toBe(
        metricValue(before, 'radd_webhook_requests_total', label) + 1,
      );
    }
    expect(after).toContain('radd_webhook_request_duration_seconds_bucket');
    expect(after).toContain(`radd_queue_jobs{queue="${QueueName.AiResponse}",state="delayed"}`);
    expect(after).toContain('radd_queue_oldest_waiting_seconds{queue="process-webhook"}');
    expect(after).toContain('radd_process_resident_memory_bytes');
    // No message, customer or merchant ids in label values.
    expect(after).not.toContain(merchant.id);
    expect(after).not.toContain('m-metrics');
  });

  it('cleanup removes raw events past retention, keeps recent and unprocessed ones, and keeps messages', async () => {
    const db = database(radd.app);
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-clean', 'm-clean', 'اريد اطلب');
    expect((await postSigned(radd.url, body)).status).toBe(200);
    await eventually(async () => {
      const [row] = await db.query<Array<{ status: string }>>(
        `SELECT status FROM webhook_events WHERE raw_body = $1`,
        [Buffer.from(body)],
      );
      return row?.status === 'processed' ? true : undefined;
    });
    const [old] = await rowsOf<{ id: string }>(
      db,
      `UPDATE webhook_events SET received_at = now() - interval '31 days' WHERE raw_body = $1 RETURNING id`,
      [Buffer.from(body)],
    );
    const [recorded] = await db.query<Array<{ count: string }>>(
      `SELECT count(*) FROM inbound_events WHERE webhook_event_id = $1`,
      [old.id],
    );
    expect(recorded.count).toBe('1');
    const [stuck] = await db.query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (source, raw_body, status, received_at) VALUES ('instagram', '\\x7b7d', 'received', now() - interval '40 days') RETURNING id`,
    );
    const [recent] = await db.query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (source, raw_body, status, received_at) VALUES ('instagram', '\\x7b7d', 'processed', now() - interval '29 days') RETURNING id`,
    );
    // The outbox must not pick up the hand-made unprocessed row while this runs.
    await db.query(`UPDATE webhook_events SET status = 'failed' WHERE id = $1`, [stuck.id]);
    await db.query(`UPDATE webhook_events SET status = 'received' WHERE id = $1`, [stuck.id]);

    const report = await radd.app.get(CleanupService).run();
    expect(report.webhookEvents).toBeGreaterThanOrEqual(1);
    const left = await db.query<Array<{ id: string }>>(
      `SELECT id FROM webhook_events WHERE id = ANY($1::uuid[])`,
      [[old.id, stuck.id, recent.id]],
    );
    expect(left.map((row) => row.id).sort()).toEqual([stuck.id, recent.id].sort());
    const [inbound] = await db.query<Array<{ count: string }>>(
      `SELECT count(*) FROM inbound_events WHERE webhook_event_id = $1`,
      [old.id],
    );
    expect(inbound.count).toBe('0');
    const messages = await db.query<Array<{ text: string }>>(
      `SELECT text FROM messages WHERE merchant_id = $1`,
      [merchant.id],
    );
    expect(messages).toEqual([{ text: 'اريد اطلب' }]);
    await db.query(`DELETE FROM webhook_events WHERE id = $1`, [stuck.id]);
  });

  it('schedules the cleanup job to repeat', async () => {
    const schedulers = await radd.app.get(QueueManager).queue(QueueName.Cleanup).getJobSchedulers();
    expect(schedulers.map((scheduler) => [scheduler.key, scheduler.every])).toEqual([
      ['cleanup-every-interval', 3_600_000],
    ]);
  });

  it('reports a queue without workers as unhealthy', async () => {
    const api = await startApp({ APP_ROLE: 'api' });
    try {
      const health = await api.app.get(QueueManager).health(QueueName.MessageDelivery);
      expect(health).toMatchObject({
        healthy: false,
        workers: 0,
        problems: ['no worker is connected'],
      });
    } finally {
      await api.close();
    }
    const withWorkers = await radd.app.get(QueueManager).health(QueueName.ProcessWebhook);
    expect(withWorkers.workers).toBeGreaterThan(0);
  });
});

describe('queue dashboard (e2e)', () => {
  it('is off while its credentials are unset', async () => {
    const radd = await startApp();
    try {
      expect((await fetch(`${radd.url}/admin/queues`)).status).toBe(404);
    } finally {
      await radd.close();
    }
  });

  // Bull Board's static-file plugin needs ESM packages that Node loads but jest's module loader
  // cannot: this test runs the built server as a process, as deployed.
  it('asks for basic auth, and shows the queues to the right credentials', async () => {
    const server = await startBuiltServer({
      APP_ROLE: 'api',
      BULL_BOARD_USER: 'ops',
      BULL_BOARD_PASSWORD: 'board-password-1',
    });
    try {
      const anonymous = await fetch(`${server.url}/admin/queues`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
      const wrong = await fetch(`${server.url}/admin/queues`, {
        headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
      const auth = {
        authorization: `Basic ${Buffer.from('ops:board-password-1').toString('base64')}`,
      };
      const page = await fetch(`${server.url}/admin/queues`, { headers: auth });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const queues = await fetch(`${server.url}/admin/queues/api/queues`, { headers: auth });
      expect(queues.status).toBe(200);
      const names = ((await queues.json()) as { queues: Array<{ name: string }> }).queues.map(
        (queue) => queue.name,
      );
      expect(names.sort()).toEqual([
        'ai-response',
        'cleanup',
        'message-delivery',
        'process-webhook',
      ]);
      // Guessing: past AUTH_FAILURES_PER_MINUTE wrong passwords in a minute, 429, and for the
      // rest of the minute the right password gets 429 too (a right guess looks like the others).
      const guesses: number[] = [];
      for (let guess = 0; guess < AUTH_FAILURES_PER_MINUTE; guess += 1) {
        const answer = await fetch(`${server.url}/admin/queues`, {
          headers: {
            authorization: `Basic ${Buffer.from(`ops:guess-${guess}`).toString('base64')}`,
          },
        });
        guesses.push(answer.status);
      }
      expect(guesses.slice(0, AUTH_FAILURES_PER_MINUTE - 1).every((status) => status === 401)).toBe(
        true,
      );
      expect(guesses.at(-1)).toBe(429);
      const throttled = await fetch(`${server.url}/admin/queues`, {
        headers: { authorization: `Basic ${Buffer.from('ops:one-more').toString('base64')}` },
      });
      expect(throttled.status).toBe(429);
      expect((await fetch(`${server.url}/admin/queues`, { headers: auth })).status).toBe(429);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('queue admin API (e2e)', () => {
  let radd: TestApp;
  let admin: string;
  beforeAll(async () => {
    radd = await startApp({ AI_DEBOUNCE_MS: '60000' });
    const tokens = radd.app.get(TokenService);
    admin = tokens.issue({ role: 'admin', sub: 'ops' });
  });
  afterAll(() => radd.close());

  const get = (path: string, token: string | null = admin) =>
    fetch(`${radd.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('gives the counts of every queue to an admin only', async () => {
    const res = await get('/api/queue/stats');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Record<string, Record<string, number>> };
    expect(Object.keys(body.queues).sort()).toEqual([
      'ai-response',
      'cleanup',
      'message-delivery',
      'process-webhook',
    ]);
    for (const counts of Object.values(body.queues)) {
      expect(Object.keys(counts).sort()).toEqual([
        'active',
        'completed',
        'delayed',
        'failed',
        'paused',
        'waiting',
      ]);
    }
    expect((await get('/api/queue/stats', null)).status).toBe(401);
    const merchant = await createMerchant(radd.app);
    const merchantToken = radd.app
      .get(TokenService)
      .issue({ role: 'merchant', sub: 'shop', merchantId: merchant.id });
    expect((await get('/api/queue/stats', merchantToken)).status).toBe(403);
  });

  it('reports queue health: 200 with workers on every queue', async () => {
    const res = await get('/api/queue/health');
    const body = (await res.json()) as {
      healthy: boolean;
      queues: Record<string, { workers: number; problems: string[] }>;
    };
    expect(Object.keys(body.queues).sort()).toEqual([
      'ai-response',
      'cleanup',
      'message-delivery',
      'process-webhook',
    ]);
    expect(res.status).toBe(body.healthy ? 200 : 503);
    expect(body.queues['process-webhook'].workers).toBeGreaterThan(0);
  });

  it('answers 503 naming the queue that has no worker', async () => {
    const api = await startApp({ APP_ROLE: 'api' });
    try {
      const token = api.app.get(TokenService).issue({ role: 'admin', sub: 'ops' });
      const res = await fetch(`${api.url}/api/queue/health`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(503);
      const body = (await res.json()) as {
        healthy: boolean;
        queues: Record<string, { problems: string[] }>;
      };
      expect(body.healthy).toBe(false);
      expect(body.queues['ai-response'].problems).toContain('no worker is connected');
    } finally {
      await api.close();
    }
  });

  it('lists dead letters and runs them again', async () => {
    const db = database(radd.app);
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-dead', 'm-dead', 'هلو');
    // A stored body the worker cannot read: its one attempt fails and the job is dead-lettered.
    const [event] = await db.query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (source, raw_body) VALUES ('instagram', '\\x7b6261') RETURNING id`,
    );
    const webhookQueue = radd.app.get(QueueManager).queue(QueueName.ProcessWebhook);
    await webhookQueue.add(
      'instagram',
      { webhookEventId: event.id },
      { jobId: event.id, attempts: 1 },
    );
    await eventually(async () =>
      (await webhookQueue.getJobState(event.id)) === 'failed' ? true : undefined,
    );
    const [failed] = await db.query<Array<{ status: string }>>(
      `SELECT status FROM webhook_events WHERE id = $1`,
      [event.id],
    );
    expect(failed.status).toBe('failed');
    // The cause is mended; an operator runs the dead letters again.
    await db.query(`UPDATE webhook_events SET raw_body = $2 WHERE id = $1`, [
      event.id,
      Buffer.from(body),
    ]);

    const listed = await get('/api/queue/process-webhook/failed');
    expect(listed.status).toBe(200);
    const { jobs } = (await listed.json()) as { jobs: Array<{ id: string; failedReason: string }> };
    expect(jobs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: event.id, failedReason: expect.stringContaining('JSON') }),
      ]),
    );
    expect((await get('/api/queue/nope/failed')).status).toBe(404);

    const retried = await fetch(`${radd.url}/api/queue/process-webhook/failed/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as { retried: number }).retried).toBeGreaterThanOrEqual(1);
    await eventually(async () => {
      const [row] = await db.query<Array<{ status: string }>>(
        `SELECT status FROM webhook_events WHERE id = $1`,
        [event.id],
      );
      return row.status === 'processed' ? true : undefined;
    });
    // Retried with all its attempts: the run after the retry was its first.
    expect((await webhookQueue.getJob(event.id))?.attemptsMade).toBe(1);
  });
});

import { createHmac, randomUUID } from 'node:crypto';
import { MerchantDirectory } from 'src/merchant/merchant-directory';
import { metaSignature } from 'src/webhook/meta-signature';
import { QueueName } from 'src/queue/queue.constants';
import { startApp, TEST_SECRETS, type TestApp } from 'test/utils/app';
import { captureOutput } from 'test/utils/output';
import {
  accountId,
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';

describe('Instagram webhook: receiving (e2e)', () => {
  let radd: TestApp;
  beforeAll(async () => {
    // The API role alone: nothing consumes the jobs, so the test sees exactly what was queued.
    radd = await startApp({ APP_ROLE: 'api' });
  });
  afterAll(() => radd.close());

  const stored = async (): Promise<number> => {
    const [row] = await database(radd.app).query<Array<{ count: string }>>(
      'SELECT count(*) FROM webhook_events',
    );
    return Number(row.count);
  };
  const queued = async (): Promise<number> => {
    const counts = await queue(radd.app, QueueName.ProcessWebhook).getJobCounts(
      'waiting',
      'active',
      'delayed',
      'completed',
      'failed',
    );
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  };

  describe('verification handshake', () => {
    const verify = (query: string) => fetch(`${radd.url}/webhooks/instagram?${query}`);

    it('echoes the challenge as plain text when the token matches', async () => {
      const res = await verify(
        `hub.mode=subscribe&hub.verify_token=${TEST_SECRETS.IG_VERIFY_TOKEN}&hub.challenge=1158201444`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe('1158201444');
    });

    it.each([
      ['a wrong token', 'hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1'],
      [
        'a longer token',
        `hub.mode=subscribe&hub.verify_token=${TEST_SECRETS.IG_VERIFY_TOKEN}x&hub.challenge=1`,
      ],
      [
        'another mode',
        `hub.mode=unsubscribe&hub.verify_token=${TEST_SECRETS.IG_VERIFY_TOKEN}&hub.challenge=1`,
      ],
      ['no token', 'hub.mode=subscribe&hub.challenge=1'],
      ['no challenge', `hub.mode=subscribe&hub.verify_token=${TEST_SECRETS.IG_VERIFY_TOKEN}`],
    ])('answers 403 for %s', async (_, query) => {
      const res = await verify(query);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    });
  });

  describe('a valid POST', () => {
    it('is answered EVENT_RECEIVED after the raw bytes are stored, and queued once', async () => {
      const account = accountId();
      // Meta signs the escaped-unicode form it sends; these exact bytes must be stored.
      const body = textDm(account, '5678', `mid-${account}`, 'شكد سعر الفستان؟').replace(
        /[\u0600-\u06ff]/g,
        (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
      const res = await postSigned(radd.url, body);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe('EVENT_RECEIVED');
      const [row] = await database(radd.app).query<
        Array<{ id: string; raw_body: Buffer; status: string }>
      >(`SELECT id, raw_body, status FROM webhook_events WHERE raw_body = $1`, [Buffer.from(body)]);
      expect(row.status).toBe('received');
      expect(row.raw_body.toString()).toBe(body);
      const job = await queue(radd.app, QueueName.ProcessWebhook).getJob(row.id);
      expect(job?.data).toEqual({ webhookEventId: row.id });
    });

    it('accepts the Instagram app secret as signing key too', async () => {
      const body = textDm(accountId(), '1', 'mid-ig-secret', 'hi');
      const res = await postSigned(radd.url, body, { secret: TEST_SECRETS.IG_APP_SECRET });
      expect(res.status).toBe(200);
    });
  });

  describe('the rejection matrix: each answered with its status, nothing stored, nothing queued', () => {
    const body = textDm('17841400000000009', '5678', 'mid-rejected', 'hello');
    const cases: Array<[string, () => Promise<Response>, number]> = [
      [
        'no signature',
        () =>
          fetch(`${radd.url}/webhooks/instagram`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          }),
        401,
      ],
      ['a wrong secret', () => postSigned(radd.url, body, { secret: 'not-the-secret' }), 401],
      [
        'a sha1 signature only',
        () =>
          fetch(`${radd.url}/webhooks/instagram`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-hub-signature': `sha1=${createHmac('sha1', TEST_SECRETS.META_APP_SECRET).update(body).digest('hex')}`,
            },
            body,
          }),
        401,
      ],
      [
        'a signature of the re-serialised body',
        () =>
          fetch(`${radd.url}/webhooks/instagram`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-hub-signature-256': metaSignature(
                JSON.stringify(JSON.parse(body), null, 1),
                TEST_SECRETS.META_APP_SECRET,
              ),
            },
            body,
          }),
        401,
      ],
      [
        'a forged request without a Content-Type',
        () =>
          fetch(`${radd.url}/webhooks/instagram`, {
            method: 'POST',
            body: new Uint8Array(Buffer.from(body)),
          }),
        401,
      ],
      [
        'a forged form post',
        () =>
          fetch(`${radd.url}/webhooks/instagram`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'object=instagram',
          }),
        401,
      ],
      [
        'a signed body that is not JSON, sent as text/plain',
        () => postSigned(radd.url, 'hello', { headers: { 'content-type': 'text/plain' } }),
        400,
      ],
      ['truncated JSON', () => postSigned(radd.url, body.slice(0, -7)), 400],
      ['a JSON array', () => postSigned(radd.url, '[{"object":"instagram"}]'), 400],
      ['the wrong object', () => postSigned(radd.url, body.replace('"instagram"', '"page"')), 400],
      ['no entry array', () => postSigned(radd.url, '{"object":"instagram","entry":{}}'), 400],
      [
        '__proto__ keys',
        () =>
          postSigned(radd.url, '{"object":"instagram","entry":[],"__proto__":{"polluted":true}}'),
        400,
      ],
      [
        'a 2 MiB body',
        () =>
          postSigned(
            radd.url,
            JSON.stringify({ object: 'instagram', entry: [], pad: 'x'.repeat(2 * 1024 * 1024) }),
          ),
        413,
      ],
    ];

    it.each(cases)('%s', async (_, send, status) => {
      const before = { stored: await stored(), queued: await queued() };
      const res = await send();
      expect(res.status).toBe(status);
      const answer = (await res.json()) as Record<string, unknown>;
      expect(answer).toMatchObject({ statusCode: status });
      expect(typeof answer.message).toBe('string');
      expect({ stored: await stored(), queued: await queued() }).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('forgery floods', () => {
    it('answers 401 up to 100 failures a minute per address, then 429, and never throttles a signed request', async () => {
      const body = textDm(accountId(), '5678', 'mid-flood', 'flood');
      const address = { 'x-forwarded-for': 'ignored' }; // the client address is the socket's, not a header
      const statuses: number[] = [];
      for (let i = 0; i < 105; i += 1) {
        statuses.push(
          (await postSigned(radd.url, body, { secret: 'forger', headers: address })).status,
        );
      }
      // Earlier tests of this file have already failed a few times from this address.
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(100);
      expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
      expect(new Set(statuses)).toEqual(new Set([401, 429]));
      const genuine = await postSigned(radd.url, body);
      expect(genuine.status).toBe(200);
      // The ManyChat route counts its own failures: a wrong secret from this address is still a 401.
      const manychat = await fetch(`${radd.url}/webhooks/manychat/${randomUUID()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-radd-secret': 'wrong' },
        body: JSON.stringify({ subscriber_id: '1', text: 'x' }),
      });
      expect(manychat.status).toBe(401);
    });
  });

  describe('PostgreSQL unavailable', () => {
    it('answers 503 so that Meta retries, and stores nothing', async () => {
      const { Client } = await import('pg');
      const name = new URL(process.env.DATABASE_URL ?? '').pathname.slice(1);
      const admin = new Client({
        connectionString: process.env.DATABASE_URL?.replace(/\/[^/]+$/, '/postgres'),
      });
      await admin.connect();
      const before = await stored();
      const body = textDm(accountId(), '5678', 'mid-db-down', 'hello');
      try {
        await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(name)} ALLOW_CONNECTIONS false`);
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        const output = captureOutput();
        const res = await postSigned(radd.url, body, {
          headers: { 'x-request-id': 'trace-db-down' },
        }).finally(() => output.stop());
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
        // The request logs no context: the handler's line names the request itself.
        const failure = output
          .text()
          .split('\n')
          .find((line) => line.includes('could not store a webhook event'));
        expect(JSON.parse(failure ?? '{}')).toMatchObject({ requestId: 'trace-db-down' });
      } finally {
        await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(name)} ALLOW_CONNECTIONS true`);
        await admin.end();
      }
      await eventually(async () => ((await stored().catch(() => -1)) >= 0 ? true : undefined));
      expect(await stored()).toBe(before);
      // Meta's retry then succeeds.
      expect((await postSigned(radd.url, body)).status).toBe(200);
    });
  });

  describe('PostgreSQL not keeping up', () => {
    it('answers 503 to an event whose commit cannot begin within 3 s, and stores only the answered', async () => {
      const { Client } = await import('pg');
      const blocker = new Client({ connectionString: process.env.DATABASE_URL });
      await blocker.connect();
      const before = await stored();
      const account = accountId();
      const post = (n: number) =>
        postSigned(radd.url, textDm(account, '5678', `mid-held-${account}-${n}`, 'hello'));
      const output = captureOutput();
      try {
        // Inserts wait for this lock: the API's four commits are held, and a fifth event queues.
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE webhook_events IN SHARE MODE');
        const held = [1, 2, 3, 4].map(post);
        await eventually(async () => {
          const { rows } = await blocker.query<{ count: string }>(
            "SELECT count(*) FROM pg_locks WHERE relation = 'webhook_events'::regclass AND NOT granted",
          );
          return Number(rows[0].count) === 4 ? true : undefined;
        });
        const startedAt = Date.now();
        const refused = await post(5);
        const waited = Date.now() - startedAt;
        expect(refused.status).toBe(503);
        expect(await refused.json()).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'storage is busy, retry later',
        });
        expect(waited).toBeGreaterThanOrEqual(2_900);
        expect(waited).toBeLessThan(4_500);
        await blocker.query('COMMIT');
        expect((await Promise.all(held)).map((res) => res.status)).toEqual([200, 200, 200, 200]);
      } finally {
        output.stop();
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }
      expect(await stored()).toBe(before + 4);
      expect(output.text()).toContain('PostgreSQL is not keeping up with webhooks');
      const metrics = await (await fetch(`${radd.url}/metrics`)).text();
      expect(metrics).toMatch(
        /radd_webhook_requests_total\{source="instagram",outcome="busy"\} 1\b/,
      );
      // Meta's retry, once PostgreSQL keeps up, is stored.
      expect((await post(5)).status).toBe(200);
      expect(await stored()).toBe(before + 5);
    });
  });

  describe('routing', () => {
    it('knows merchants by their Page id as well as their Instagram account id', async () => {
      const pageId = accountId();
      const merchant = await createMerchant(radd.app, { pageId });
      const other = await createMerchant(radd.app);
      const routes = await radd.app
        .get(MerchantDirectory)
        .byAccountIds([pageId, merchant.instagramAccountId, other.instagramAccountId, '999']);
      expect(routes.get(pageId)).toMatchObject({ id: merchant.id, pageId });
      expect(routes.get(merchant.instagramAccountId)?.id).toBe(merchant.id);
      expect(routes.get(other.instagramAccountId)).toMatchObject({ id: other.id, pageId: null });
      expect(routes.has('999')).toBe(false);
    });

    it('routes an id that two merchants hold to neither (rows older than the check), and says so', async () => {
      const shared = accountId();
      const owner = await createMerchant(radd.app);
      await createMerchant(radd.app, { pageId: shared });
      await database(radd.app).query(`UPDATE merchants SET page_id = $1 WHERE id = $2`, [
        shared,
        owner.id,
      ]);
      const third = await createMerchant(radd.app, { pageId: owner.instagramAccountId });
      const output = captureOutput();
      let routes: Map<string, { id: string }>;
      try {
        routes = await radd.app
          .get(MerchantDirectory)
          .byAccountIds([shared, owner.instagramAccountId, third.instagramAccountId]);
      } finally {
        output.stop();
      }
      expect(routes.has(shared)).toBe(false);
      expect(routes.has(owner.instagramAccountId)).toBe(false);
      expect(routes.get(third.instagramAccountId)?.id).toBe(third.id);
      expect(output.text()).toContain('an account id belongs to more than one merchant');
    });
  });
});

import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { startApp, type TestApp } from 'test/utils/app';
import { captureOutput } from 'test/utils/output';
import { adminToken, call, merchantToken, type RequestOptions } from 'test/utils/api';
import { accountId, database, eventually, postSigned, textDm } from 'test/utils/instagram';

type Json = Record<string, unknown>;
const canary = (what: string) => `${what}-canary-${randomBytes(8).toString('hex')}`;

/** Every value stored under a Redis prefix (job hashes, lists, sets, streams), as one string. */
async function redisDump(prefix: string): Promise<{ keys: number; text: string }> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    const parts: string[] = [];
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) {
        keys += 1;
        parts.push(key);
        const type = await redis.type(key);
        if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'string') parts.push((await redis.get(key)) ?? '');
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
    return { keys, text: parts.join('\n') };
  } finally {
    redis.disconnect();
  }
}

describe('credentials never leak (e2e)', () => {
  const prefix = `e2e-${process.env.E2E_RUN_ID ?? 'local'}-secrets-${randomBytes(3).toString('hex')}`;
  let radd: TestApp;
  let output: ReturnType<typeof captureOutput>;
  const responses: string[] = [];
  const seen = (text: string) => responses.push(text);
  const igToken = canary('IGAA');
  const igTokenRenewed = canary('IGAA-renewed');
  const manychatKey = canary('mc-key');
  const inboundSecrets: string[] = [];
  const merchants: Array<{ id: string; instagramAccountId: string }> = [];

  beforeAll(async () => {
    output = captureOutput();
    radd = await startApp({ LOG_LEVEL: 'trace', REDIS_PREFIX: prefix, AI_DEBOUNCE_MS: '100' });
  });
  afterAll(async () => {
    await radd.close();
    output.stop();
  });

  const request = (method: string, path: string, options: RequestOptions = {}) =>
    call<Json>(radd.url, method, path, { token: adminToken(radd.app), ...options }, seen);

  it('exercises every route with credentials, then finds none in responses, logs, jobs or columns', async () => {
    for (const deliveryChannel of ['instagram', 'manychat']) {
      const created = await request('POST', '/api/merchants', {
        body: {
          name: `leak test ${deliveryChannel}`,
          instagramAccountId: accountId(),
          deliveryChannel,
          credentials: { instagramAccessToken: igToken, manychatApiKey: manychatKey },
        },
      });
      expect(created.status).toBe(201);
      inboundSecrets.push(created.body.inboundSecret as string);
      merchants.push({
        id: created.body.id as string,
        instagramAccountId: created.body.instagramAccountId as string,
      });
    }
    const [first, second] = merchants;
    const own = merchantToken(radd.app, first.id);
    // A duplicate, a refused field and a misplaced credential: errors must not echo values.
    await request('POST', '/api/merchants', {
      body: {
        name: 'dup',
        instagramAccountId: first.instagramAccountId,
        deliveryChannel: 'instagram',
        credentials: { instagramAccessToken: igToken },
      },
    });
    await request('POST', '/api/merchants', {
      body: {
        name: 'x',
        instagramAccountId: accountId(),
        deliveryChannel: 'x',
        accessToken: igToken,
      },
    });
    await request('PATCH', `/api/merchants/${first.id}`, {
      token: own,
      body: { credentials: { instagramAccessToken: igTokenRenewed, apiKey: manychatKey } },
    });
    await request('PATCH', `/api/merchants/${first.id}`, {
      token: own,
      body: { credentials: { instagramAccessToken: igTokenRenewed } },
    });
    await request('GET', '/api/merchants');
    await request('GET', `/api/merchants/${first.id}`, { token: own });
    const rotated = await request('POST', `/api/merchants/${second.id}/inbound-secret`);
    inboundSecrets.push(rotated.body.inboundSecret as string);

    // Traffic that makes jobs: an Instagram DM to one, a ManyChat message to the other.
    expect(
      (
        await postSigned(
          radd.url,
          textDm(first.instagramAccountId, 'cust-1', `mid-${first.id}`, 'شكد السعر؟'),
        )
      ).status,
    ).toBe(200);
    const inbound = await fetch(`${radd.url}/webhooks/manychat/${second.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-radd-secret': inboundSecrets[2] },
      body: JSON.stringify({ subscriber_id: '555', text: 'هلو' }),
    });
    expect(inbound.status).toBe(202);
    await eventually(
      async () => {
        const [row] = await database(radd.app).query<Array<{ n: string }>>(
          `SELECT count(*) AS n FROM messages WHERE merchant_id = ANY($1) AND direction = 'out'`,
          [merchants.map((m) => m.id)],
        );
        return Number(row.n) >= 2 ? true : undefined;
      },
      15_000,
      'the bot replies to be stored',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    const plaintexts = [igToken, igTokenRenewed, manychatKey];
    const everyResponse = responses.join('\n');
    for (const secret of plaintexts) expect(everyResponse).not.toContain(secret);
    // Inbound secrets appear only in the answer that made each (creation, rotation).
    for (const secret of inboundSecrets) {
      expect(responses.filter((text) => text.includes(secret))).toHaveLength(1);
    }

    const logs = output.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain('/api/merchants');
    for (const secret of [...plaintexts, ...inboundSecrets]) expect(logs).not.toContain(secret);

    const redis = await redisDump(prefix);
    expect(redis.keys).toBeGreaterThan(0);
    expect(redis.text).toContain(first.id);
    for (const secret of [...plaintexts, ...inboundSecrets]) {
      expect(redis.text).not.toContain(secret);
    }

    const rows = await database(radd.app).query<Json[]>(
      `SELECT instagram_access_token, manychat_api_key, inbound_secret FROM merchants WHERE id = ANY($1)`,
      [merchants.map((m) => m.id)],
    );
    for (const row of rows) {
      for (const value of Object.values(row)) {
        expect(value).toMatch(/^v1\.[0-9a-f]{8}\./);
        for (const secret of [...plaintexts, ...inboundSecrets]) {
          expect(value).not.toContain(secret);
        }
      }
    }
  });
});

import { startApp, type TestApp } from 'test/utils/app';
import {
  adminToken,
  call,
  handMadeJwt,
  inAnHour,
  merchantToken,
  type RequestOptions,
} from 'test/utils/api';
import { accountId, database } from 'test/utils/instagram';

type Json = Record<string, unknown>;
interface Route {
  method: string;
  path: string;
  body?: unknown;
  raw?: RequestOptions['raw'];
}

/**
 * Tenant isolation (OWASP API1/API2): merchant B's token on anything of merchant A is answered
 * 404 and changes nothing; merchant tokens on operator routes get 403; requests without a valid
 * token get 401.
 */
describe('admin API isolation (e2e)', () => {
  let radd: TestApp;
  let admin: string;
  const a = { id: '', product: '', conversation: '', token: '' };
  const b = { id: '', product: '', conversation: '', token: '' };

  beforeAll(async () => {
    radd = await startApp();
    admin = adminToken(radd.app);
    for (const merchant of [a, b]) {
      const created = await call<Json>(radd.url, 'POST', '/api/merchants', {
        token: admin,
        body: {
          name: merchant === a ? 'متجر أ' : 'متجر ب',
          instagramAccountId: accountId(),
          deliveryChannel: 'instagram',
          credentials: { instagramAccessToken: `token-of-${merchant === a ? 'a' : 'b'}` },
          profile: { description: merchant === a ? 'secret-profile-of-a' : 'profile of b' },
        },
      });
      expect(created.status).toBe(201);
      merchant.id = created.body.id as string;
      merchant.token = merchantToken(radd.app, merchant.id);
      const product = await call<Json>(radd.url, 'POST', `/api/merchants/${merchant.id}/products`, {
        token: merchant.token,
        body: { sku: 'SAME-SKU', name: `product-of-${merchant === a ? 'a' : 'b'}`, price: 1000 },
      });
      merchant.product = product.body.id as string;
      const [customer] = await database(radd.app).query<Array<{ id: string }>>(
        `INSERT INTO customers (merchant_id, igsid, username) VALUES ($1, '5678', $2) RETURNING id`,
        [merchant.id, `customer-of-${merchant === a ? 'a' : 'b'}`],
      );
      const [conversation] = await database(radd.app).query<Array<{ id: string }>>(
        `INSERT INTO conversations (merchant_id, customer_id, last_message_at, last_customer_message_at, needs_human)
         VALUES ($1, $2, now(), now(), true) RETURNING id`,
        [merchant.id, customer.id],
      );
      merchant.conversation = conversation.id;
      await database(radd.app).query(
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, text, mid, occurred_at)
         VALUES ($1, $2, 'in', 'customer', $3, $4, now())`,
        [
          merchant.id,
          conversation.id,
          `message-of-${merchant === a ? 'a' : 'b'}`,
          `mid-${merchant.id}`,
        ],
      );
    }
  });
  afterAll(() => radd.close());

  /** Everything stored for merchant A, as one string. */
  async function snapshotOfA(): Promise<string> {
    const db = database(radd.app);
    const parts = await Promise.all([
      db.query(`SELECT * FROM merchants WHERE id = $1`, [a.id]),
      db.query(`SELECT * FROM products WHERE merchant_id = $1 ORDER BY id`, [a.id]),
      db.query(`SELECT * FROM customers WHERE merchant_id = $1 ORDER BY id`, [a.id]),
      db.query(`SELECT * FROM conversations WHERE merchant_id = $1 ORDER BY id`, [a.id]),
      db.query(`SELECT * FROM messages WHERE merchant_id = $1 ORDER BY id`, [a.id]),
    ]);
    return JSON.stringify(parts);
  }

  /** Every route that takes an id, aimed at `target` (merchant) with children `of`. */
  function routes(target: string, of: { product: string; conversation: string }): Route[] {
    const m = `/api/merchants/${target}`;
    const c = `${m}/conversations/${of.conversation}`;
    return [
      { method: 'GET', path: m },
      {
        method: 'PATCH',
        path: m,
        body: { name: 'taken over', credentials: { instagramAccessToken: 'x' } },
      },
      { method: 'POST', path: `${m}/inbound-secret` },
      { method: 'GET', path: `${m}/products` },
      { method: 'POST', path: `${m}/products`, body: { sku: 'INTRUDER', name: 'x', price: 1 } },
      {
        method: 'POST',
        path: `${m}/products/import`,
        body: [{ sku: 'SAME-SKU', name: 'x', price: 1 }],
      },
      {
        method: 'POST',
        path: `${m}/products/import`,
        raw: { contentType: 'text/csv', data: 'sku,name,price\nSAME-SKU,x,1\n' },
      },
      { method: 'GET', path: `${m}/products/${of.product}` },
      { method: 'PATCH', path: `${m}/products/${of.product}`, body: { price: 1 } },
      { method: 'DELETE', path: `${m}/products/${of.product}` },
      { method: 'GET', path: `${m}/conversations` },
      { method: 'GET', path: `${c}/messages` },
      { method: 'POST', path: `${c}/pause`, body: { minutes: 10 } },
      { method: 'POST', path: `${c}/resume` },
    ];
  }

  const secretsOfA = [
    'token-of-a',
    'secret-profile-of-a',
    'product-of-a',
    'customer-of-a',
    'message-of-a',
  ];

  it('answers merchant B’s token on every route of merchant A with 404, and nothing changes', async () => {
    const before = await snapshotOfA();
    const missing = await call<Json>(
      radd.url,
      'GET',
      '/api/merchants/00000000-0000-4000-8000-0000000000aa',
      { token: b.token },
    );
    for (const route of routes(a.id, a)) {
      const res = await call<Json>(radd.url, route.method, route.path, {
        token: b.token,
        body: route.body,
        raw: route.raw,
      });
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 404,
      });
      // Exactly what a merchant id that does not exist gets: existence is not revealed.
      expect(res.body).toEqual(missing.body);
      for (const secret of secretsOfA) expect(res.text).not.toContain(secret);
    }
    expect(await snapshotOfA()).toBe(before);
  });

  it('answers B’s own merchant path with A’s products and conversations 404, and nothing changes', async () => {
    const before = await snapshotOfA();
    const children = routes(b.id, a).filter((route) =>
      /\/(products|conversations)\/[0-9a-f-]{36}/.test(route.path),
    );
    expect(children.length).toBe(6);
    for (const route of children) {
      const res = await call<Json>(radd.url, route.method, route.path, {
        token: b.token,
        body: route.body,
      });
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 404,
      });
      for (const secret of secretsOfA) expect(res.text).not.toContain(secret);
    }
    expect(await snapshotOfA()).toBe(before);
  });

  it('lets each merchant use every one of those routes on its own data (the 404s are isolation)', async () => {
    for (const route of routes(a.id, a).filter((r) => r.method === 'GET')) {
      const res = await call(radd.url, route.method, route.path, { token: a.token });
      expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 200 });
    }
    const listed = await call<{ items: Json[] }>(
      radd.url,
      'GET',
      `/api/merchants/${b.id}/products`,
      {
        token: b.token,
      },
    );
    expect(listed.body.items.map((p) => p.name)).toEqual(['product-of-b']);
    const conversations = await call<{ items: Json[] }>(
      radd.url,
      'GET',
      `/api/merchants/${b.id}/conversations`,
      { token: b.token },
    );
    expect(conversations.body.items.map((c) => c.id)).toEqual([b.conversation]);
  });

  it('answers a merchant token on operator routes with 403', async () => {
    const attempts: Route[] = [
      { method: 'GET', path: '/api/merchants' },
      {
        method: 'POST',
        path: '/api/merchants',
        body: { name: 'x', instagramAccountId: accountId(), deliveryChannel: 'instagram' },
      },
      {
        method: 'PATCH',
        path: `/api/merchants/${b.id}`,
        body: { instagramAccountId: accountId() },
      },
      { method: 'PATCH', path: `/api/merchants/${b.id}`, body: { pageId: '42' } },
    ];
    const [{ count }] = await database(radd.app).query<Array<{ count: string }>>(
      `SELECT count(*) FROM merchants`,
    );
    for (const route of attempts) {
      const res = await call<Json>(radd.url, route.method, route.path, {
        token: b.token,
        body: route.body,
      });
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 403,
      });
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    }
    const [after] = await database(radd.app).query<Array<{ count: string }>>(
      `SELECT count(*) FROM merchants`,
    );
    expect(after.count).toBe(count);
  });

  it('answers 401 without a valid token on every /api route', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['an empty bearer', { authorization: 'Bearer ' }],
      [
        'another scheme',
        { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      ],
      ['garbage', { authorization: 'Bearer not-a-jwt' }],
      [
        'a bad signature',
        {
          authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'admin', exp: inAnHour() }, { secret: 'another-secret-of-32-characters!' })}`,
        },
      ],
      [
        'an expired token',
        { authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'admin', exp: now - 10 })}` },
      ],
      ['no exp', { authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'admin' })}` }],
      [
        'alg none',
        {
          authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'admin', exp: inAnHour() }, { header: { alg: 'none', typ: 'JWT' } })}`,
        },
      ],
      [
        'alg HS512',
        {
          authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'admin', exp: inAnHour() }, { header: { alg: 'HS512', typ: 'JWT' } })}`,
        },
      ],
      [
        'an unknown role',
        { authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'root', exp: inAnHour() })}` },
      ],
      [
        'a merchant token without merchantId',
        { authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'merchant', exp: inAnHour() })}` },
      ],
      ['no sub', { authorization: `Bearer ${handMadeJwt({ role: 'admin', exp: inAnHour() })}` }],
    ];
    const targets = [
      { method: 'GET', path: '/api/merchants' },
      { method: 'POST', path: '/api/merchants', body: {} },
      ...routes(a.id, a),
    ];
    const before = await snapshotOfA();
    for (const [what, headers] of bad) {
      for (const route of targets) {
        const res = await call<Json>(radd.url, route.method, route.path, {
          headers,
          body: route.body,
          raw: route.raw,
        });
        expect({ what, route: `${route.method} ${route.path}`, status: res.status }).toEqual({
          what,
          route: `${route.method} ${route.path}`,
          status: 401,
        });
        expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    expect(await snapshotOfA()).toBe(before);
    const expired = await call<Json>(radd.url, 'GET', '/api/merchants', {
      headers: {
        authorization: `Bearer ${handMadeJwt({ sub: 'x', role: 'admin', exp: now - 10 })}`,
      },
    });
    expect(expired.body.message).toBe('token expired');
  });

  it('keeps health, webhooks, metrics and the docs public', async () => {
    expect((await fetch(`${radd.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${radd.url}/metrics`)).status).toBe(200);
    const docs = await fetch(`${radd.url}/docs-json`);
    expect(docs.status).toBe(200);
    await docs.arrayBuffer();
    const verify = await fetch(
      `${radd.url}/webhooks/instagram?hub.mode=subscribe&hub.verify_token=e2e-verify-token&hub.challenge=42`,
    );
    expect(verify.status).toBe(200);
  });
});

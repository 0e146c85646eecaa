import { startApp, type TestApp } from 'test/utils/app';
import { adminToken, call, merchantToken, type RequestOptions } from 'test/utils/api';
import { accountId } from 'test/utils/instagram';

type Json = Record<string, unknown>;

interface BadRequest {
  what: string;
  method: string;
  /** `:m` is the merchant, `:p` its product, `:c` its conversation. */
  path: string;
  body?: unknown;
  raw?: RequestOptions['raw'];
  status?: number;
  /** The answer's message must match: it names the field or says what is wrong. */
  message: RegExp;
  asMerchant?: boolean;
}

const merchant = (fields: Json = {}) => ({
  name: 'متجر',
  instagramAccountId: '17841400000000099',
  deliveryChannel: 'instagram',
  ...fields,
});
const product = (fields: Json = {}) => ({ sku: 'SKU-1', name: 'قميص', price: 10000, ...fields });

const CASES: BadRequest[] = [
  // Merchants: create
  {
    what: 'no name',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ name: undefined }),
    message: /name must be a string/,
  },
  {
    what: 'a blank name',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ name: '   ' }),
    message: /name must not be blank/,
  },
  {
    what: 'a name too long',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ name: 'x'.repeat(201) }),
    message: /name must be shorter than or equal to 200 characters/,
  },
  {
    what: 'a numeric instagramAccountId',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ instagramAccountId: 1784140000 }),
    message: /instagramAccountId must be a string/,
  },
  {
    what: 'the dashboard test account id',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ instagramAccountId: '0' }),
    message: /instagramAccountId must be 1-64 letters, digits/,
  },
  {
    what: 'an unknown delivery channel',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ deliveryChannel: 'sms' }),
    message: /deliveryChannel must be one of the following values: manychat, instagram/,
  },
  {
    what: 'an unknown field',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ role: 'admin' }),
    message: /role is not an accepted field/,
  },
  {
    what: 'credentials as a string',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ credentials: 'IGAA…' }),
    message: /credentials must be an object/,
  },
  {
    what: 'an unknown credential',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ credentials: { password: 'x' } }),
    message: /credentials\.password is not an accepted field/,
  },
  {
    what: 'an empty access token',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ credentials: { instagramAccessToken: '' } }),
    message: /credentials\.instagramAccessToken must not be blank/,
  },
  {
    what: 'faq that is not a list',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ profile: { faq: 'كلشي' } }),
    message: /profile\.faq must be an array/,
  },
  {
    what: 'a faq entry without answer',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ profile: { faq: [{ question: 'وين؟' }] } }),
    message: /profile\.faq\.0\.answer must be a string/,
  },
  {
    what: 'a bad language tag',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ profile: { language: 'arabic!!' } }),
    message: /profile\.language must be a language tag/,
  },
  {
    what: 'an unknown profile field',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ profile: { colour: 'red' } }),
    message: /profile\.colour is not an accepted field/,
  },
  {
    what: 'a JSON array body',
    method: 'POST',
    path: '/api/merchants',
    body: [merchant()],
    message: /request body must be a JSON object/,
  },
  {
    what: 'a JSON string body',
    method: 'POST',
    path: '/api/merchants',
    body: 'merchant',
    message: /request body must be a JSON object/,
  },
  {
    what: 'broken JSON',
    method: 'POST',
    path: '/api/merchants',
    raw: { contentType: 'application/json', data: '{"name":' },
    message: /JSON/i,
  },
  {
    what: 'prototype poisoning',
    method: 'POST',
    path: '/api/merchants',
    raw: { contentType: 'application/json', data: '{"__proto__":{"admin":true}}' },
    message: /not valid JSON/,
  },
  {
    what: 'a lone surrogate (half of an emoji) in a string',
    method: 'POST',
    path: '/api/merchants',
    raw: {
      contentType: 'application/json',
      data: JSON.stringify(merchant({ profile: { description: 'a\ud83d' } })),
    },
    message: /cannot be stored: U\+0000, or half of a surrogate pair/,
  },
  {
    what: 'U+0000 in a string',
    method: 'POST',
    path: '/api/merchants',
    raw: { contentType: 'application/json', data: JSON.stringify(merchant({ name: 'a\u0000b' })) },
    message: /cannot be stored: U\+0000/,
  },
  {
    what: 'an unsupported content type',
    method: 'POST',
    path: '/api/merchants',
    raw: { contentType: 'application/xml', data: '<merchant/>' },
    status: 415,
    message: /Unsupported Media Type|content-type/i,
  },
  {
    what: 'a text/plain body',
    method: 'POST',
    path: '/api/merchants',
    raw: { contentType: 'text/plain', data: 'name=x' },
    status: 415,
    message: /Unsupported Media Type: text\/plain/,
  },
  {
    what: 'a body over the /api limit',
    method: 'POST',
    path: '/api/merchants',
    body: merchant({ profile: { description: 'x'.repeat(300 * 1024) } }),
    status: 413,
    message: /too large/i,
  },
  // Merchants: read, update, lists
  {
    what: 'a malformed merchant id',
    method: 'GET',
    path: '/api/merchants/123',
    message: /^id must be a UUID$/,
  },
  {
    what: 'an SQL-ish merchant id',
    method: 'PATCH',
    path: "/api/merchants/1'%20OR%20'1'='1",
    body: { name: 'x' },
    message: /^id must be a UUID$/,
  },
  {
    what: 'a null name',
    method: 'PATCH',
    path: '/api/merchants/:m',
    body: { name: null },
    message: /name must be a string/,
  },
  {
    what: 'a null delivery channel',
    method: 'PATCH',
    path: '/api/merchants/:m',
    body: { deliveryChannel: null },
    message: /deliveryChannel must be one of/,
  },
  {
    what: 'limit 0',
    method: 'GET',
    path: '/api/merchants?limit=0',
    message: /limit must not be less than 1/,
  },
  {
    what: 'limit 101',
    method: 'GET',
    path: '/api/merchants?limit=101',
    message: /limit must not be greater than 100/,
  },
  {
    what: 'a limit that is not a number',
    method: 'GET',
    path: '/api/merchants?limit=ten',
    message: /limit must be an integer number/,
  },
  {
    what: 'a fractional limit',
    method: 'GET',
    path: '/api/merchants?limit=2.5',
    message: /limit must be an integer number/,
  },
  {
    what: 'a forged cursor',
    method: 'GET',
    path: '/api/merchants?cursor=bm90LWEtY3Vyc29y',
    message: /cursor is not valid/,
  },
  {
    what: 'an unknown query parameter',
    method: 'GET',
    path: '/api/merchants?sort=name',
    message: /sort is not an accepted field/,
  },
  // Products
  {
    what: 'a fractional price',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ price: 12.5 }),
    message: /price must be an integer number/,
  },
  {
    what: 'a negative price',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ price: -1 }),
    message: /price must not be less than 0/,
  },
  {
    what: 'a price as text',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ price: '25000' }),
    message: /price must be an integer number/,
  },
  {
    what: 'a price too large',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ price: 3_000_000_000 }),
    message: /price must not be greater than 2147483647/,
  },
  {
    what: 'a lower-case currency',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ currency: 'iqd' }),
    message: /currency must be a 3-letter ISO 4217 code/,
  },
  {
    what: 'inStock as text',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ inStock: 'yes' }),
    message: /inStock must be a boolean value/,
  },
  {
    what: 'a javascript: image URL',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ imageUrl: 'javascript:alert(1)' }),
    message: /imageUrl must be an http\(s\) URL/,
  },
  {
    what: 'a sku with spaces around',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ sku: ' A ' }),
    message: /sku must not be empty or start or end with a space/,
  },
  {
    what: 'no sku',
    method: 'POST',
    path: '/api/merchants/:m/products',
    body: product({ sku: undefined }),
    message: /sku must be a string/,
  },
  {
    what: 'a malformed product id',
    method: 'GET',
    path: '/api/merchants/:m/products/abc',
    message: /^productId must be a UUID$/,
  },
  {
    what: 'a null sku on update',
    method: 'PATCH',
    path: '/api/merchants/:m/products/:p',
    body: { sku: null },
    message: /sku must be a string/,
  },
  {
    what: 'an unknown product field',
    method: 'PATCH',
    path: '/api/merchants/:m/products/:p',
    body: { merchantId: '00000000-0000-4000-8000-000000000000' },
    message: /merchantId is not an accepted field/,
  },
  // Product import
  {
    what: 'an import that is an object',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    body: { products: [] },
    message: /JSON array of products/,
  },
  {
    what: 'an empty import',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    body: [],
    message: /no rows to import/,
  },
  {
    what: 'a CSV without a price column',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    raw: { contentType: 'text/csv', data: 'sku,name\nA,a\n' },
    message: /the header has no price column/,
  },
  {
    what: 'a CSV holding U+0000',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    raw: { contentType: 'text/csv', data: 'sku,name,price\nA,a\u0000b,1\n' },
    message: /cannot be stored: U\+0000/,
  },
  {
    what: 'a CSV with an unknown column',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    raw: { contentType: 'text/csv', data: 'sku,name,price,colour\nA,a,1,red\n' },
    message: /unknown column "colour"/,
  },
  {
    what: 'a CSV with an open quote',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    raw: { contentType: 'text/csv', data: 'sku,name,price\nA,"a,1\n' },
    message: /a quoted field in row 1 is not closed/,
  },
  {
    what: 'a CSV row with a bad price',
    method: 'POST',
    path: '/api/merchants/:m/products/import',
    raw: { contentType: 'text/csv', data: 'sku,name,price\nA,a,1\nB,b,ألف\n' },
    message: /row 2: price must be an integer number/,
  },
  {
    what: 'CSV sent to a JSON route',
    method: 'POST',
    path: '/api/merchants/:m/products',
    raw: { contentType: 'text/csv', data: 'sku,name,price\nA,a,1\n' },
    message: /request body must be a JSON object/,
  },
  // Conversations
  {
    what: 'an unknown status',
    method: 'GET',
    path: '/api/merchants/:m/conversations?status=archived',
    message: /status must be one of the following values: open, closed/,
  },
  {
    what: 'needsHuman that is not a boolean',
    method: 'GET',
    path: '/api/merchants/:m/conversations?needsHuman=maybe',
    message: /needsHuman must be a boolean value/,
  },
  {
    what: 'a conversation limit of 500',
    method: 'GET',
    path: '/api/merchants/:m/conversations?limit=500',
    message: /limit must not be greater than 100/,
  },
  {
    what: 'a malformed conversation id',
    method: 'GET',
    path: '/api/merchants/:m/conversations/42/messages',
    message: /^conversationId must be a UUID$/,
  },
  {
    what: 'a forged message cursor',
    method: 'GET',
    path: '/api/merchants/:m/conversations/:c/messages?cursor=WyIyMDI1IiwiMSJd',
    message: /cursor is not valid/,
  },
  {
    what: 'a pause of 0 minutes',
    method: 'POST',
    path: '/api/merchants/:m/conversations/:c/pause',
    body: { minutes: 0 },
    message: /minutes must not be less than 1/,
  },
  {
    what: 'a pause of 100,000 minutes',
    method: 'POST',
    path: '/api/merchants/:m/conversations/:c/pause',
    body: { minutes: 100_000 },
    message: /minutes must not be greater than 43200/,
  },
  {
    what: 'a pause given as text',
    method: 'POST',
    path: '/api/merchants/:m/conversations/:c/pause',
    body: { minutes: 'ten' },
    message: /minutes must be an integer number/,
  },
  {
    what: 'an unknown pause field',
    method: 'POST',
    path: '/api/merchants/:m/conversations/:c/pause',
    body: { until: 'tomorrow' },
    message: /until is not an accepted field/,
  },
  // Authentication
  {
    what: 'a malformed Authorization header',
    method: 'GET',
    path: '/api/merchants',
    status: 401,
    message: /Bearer <token>/,
    raw: undefined,
  },
];

describe('admin API refuses bad input helpfully (e2e)', () => {
  let radd: TestApp;
  const ids = { m: '', p: '', c: '' };

  beforeAll(async () => {
    radd = await startApp({ API_RATE_LIMIT_PER_MINUTE: '10000' });
    const admin = adminToken(radd.app);
    const created = await call<Json>(radd.url, 'POST', '/api/merchants', {
      token: admin,
      body: merchant({ instagramAccountId: accountId() }),
    });
    ids.m = created.body.id as string;
    const made = await call<Json>(radd.url, 'POST', `/api/merchants/${ids.m}/products`, {
      token: admin,
      body: product(),
    });
    ids.p = made.body.id as string;
    const { DataSource } = await import('typeorm');
    const db = radd.app.get(DataSource);
    const [customer] = await db.query<Array<{ id: string }>>(
      `INSERT INTO customers (merchant_id, igsid) VALUES ($1, '1') RETURNING id`,
      [ids.m],
    );
    const [conversation] = await db.query<Array<{ id: string }>>(
      `INSERT INTO conversations (merchant_id, customer_id) VALUES ($1, $2) RETURNING id`,
      [ids.m, customer.id],
    );
    ids.c = conversation.id;
  });
  afterAll(() => radd.close());

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c) => [c.what, c] as const))('refuses %s', async (_what, c) => {
    const path = c.path.replace(':m', ids.m).replace(':p', ids.p).replace(':c', ids.c);
    const token = c.asMerchant ? merchantToken(radd.app, ids.m) : adminToken(radd.app);
    const headers =
      c.status === 401 ? { authorization: `Token ${token}` } : { authorization: `Bearer ${token}` };
    const res = await call<Json>(radd.url, c.method, path, { headers, body: c.body, raw: c.raw });
    expect(res.status).toBe(c.status ?? 400);
    expect(Object.keys(res.body).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(res.body.statusCode).toBe(res.status);
    expect(res.body.message).toMatch(c.message);
    expect(res.text).not.toMatch(/\bat \w+ \(|QueryFailedError|node_modules/);
  });

  it('changed nothing', async () => {
    const list = await call<{ items: Json[] }>(
      radd.url,
      'GET',
      `/api/merchants/${ids.m}/products`,
      {
        token: adminToken(radd.app),
      },
    );
    expect(list.body.items.map((p) => p.sku)).toEqual(['SKU-1']);
  });
});

import { QueueName } from 'src/queue/queue.constants';
import { issueToken } from 'src/cli/cli';
import { readEnvironment } from 'src/config/env';
import { TokenService } from 'src/auth/token.service';
import { startApp, type TestApp } from 'test/utils/app';
import { adminToken, call, merchantToken, type RequestOptions } from 'test/utils/api';
import { accountId, database, eventually, postSigned, queue, textDm } from 'test/utils/instagram';

type Json = Record<string, unknown>;

describe('admin API (e2e)', () => {
  let radd: TestApp;
  let admin: string;

  beforeAll(async () => {
    radd = await startApp({ AI_DEBOUNCE_MS: '60000', BOT_PAUSE_ON_HUMAN_MINUTES: '45' });
    admin = adminToken(radd.app);
  });
  afterAll(() => radd.close());

  const request = <T = Json>(method: string, path: string, options: RequestOptions = {}) =>
    call<T>(radd.url, method, path, { token: admin, ...options });

  async function newMerchant(fields: Json = {}): Promise<Json & { id: string }> {
    const res = await request<Json & { id: string }>('POST', '/api/merchants', {
      body: {
        name: 'متجر الرافدين',
        instagramAccountId: accountId(),
        deliveryChannel: 'instagram',
        ...fields,
      },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  describe('merchants', () => {
    it('creates a merchant and shows it exactly as INTERFACE §3.5 says, the inbound secret once', async () => {
      const igId = accountId();
      const res = await request('POST', '/api/merchants', {
        body: {
          name: 'متجر بغداد',
          instagramAccountId: igId,
          pageId: '1122334455',
          deliveryChannel: 'manychat',
          credentials: {
            instagramAccessToken: 'IGAA-create-token',
            manychatApiKey: 'mc-create-key',
            manychatSubscriberField: '12345',
          },
          profile: {
            displayName: 'Baghdad Shop',
            faq: [{ question: 'وين موقعكم؟', answer: 'بغداد، الكرادة' }],
          },
        },
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'createdAt',
          'deliveryChannel',
          'hasInstagramAccessToken',
          'hasManychatApiKey',
          'id',
          'inboundSecret',
          'instagramAccountId',
          'name',
          'needsReauth',
          'pageId',
          'profile',
        ].sort(),
      );
      expect(res.body).toMatchObject({
        name: 'متجر بغداد',
        instagramAccountId: igId,
        pageId: '1122334455',
        deliveryChannel: 'manychat',
        hasInstagramAccessToken: true,
        hasManychatApiKey: true,
        needsReauth: false,
        profile: {
          displayName: 'Baghdad Shop',
          language: 'ar-IQ',
          faq: [{ question: 'وين موقعكم؟', answer: 'بغداد، الكرادة' }],
        },
      });
      expect(typeof res.body.inboundSecret).toBe('string');
      expect((res.body.inboundSecret as string).length).toBeGreaterThanOrEqual(32);

      const id = res.body.id as string;
      const read = await request('GET', `/api/merchants/${id}`);
      expect(read.status).toBe(200);
      const { inboundSecret, ...shown } = res.body;
      expect(read.body).toEqual(shown);
      expect(read.text).not.toContain(inboundSecret as string);

      // The secret works on the ManyChat webhook; the stored columns are ciphertext.
      const inbound = await fetch(`${radd.url}/webhooks/manychat/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-radd-secret': inboundSecret as string },
        body: JSON.stringify({ subscriber_id: '77', text: 'هلو' }),
      });
      expect(inbound.status).toBe(202);
      const [row] = await database(radd.app).query<Json[]>(
        `SELECT instagram_access_token, manychat_api_key, inbound_secret, manychat_subscriber_field FROM merchants WHERE id = $1`,
        [id],
      );
      expect(row.instagram_access_token).toMatch(/^v1\./);
      expect(row.manychat_api_key).toMatch(/^v1\./);
      expect(row.inbound_secret).toMatch(/^v1\./);
      expect(row.manychat_subscriber_field).toBe('12345');
    });

    it('refuses a second merchant with the same instagramAccountId with 409', async () => {
      const first = await newMerchant();
      const res = await request('POST', '/api/merchants', {
        body: {
          name: 'x',
          instagramAccountId: first.instagramAccountId,
          deliveryChannel: 'instagram',
        },
      });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: 'instagramAccountId is already used by another merchant',
      });
      const other = await newMerchant();
      const patch = await request('PATCH', `/api/merchants/${other.id}`, {
        body: { instagramAccountId: first.instagramAccountId },
      });
      expect(patch.status).toBe(409);
    });

    it("refuses with 409 an account id or Page id that is another merchant's, in either field", async () => {
      const first = await newMerchant({ pageId: accountId() });
      const conflicts: Array<[Json, string]> = [
        [{ pageId: first.pageId }, 'pageId'],
        [{ pageId: first.instagramAccountId }, 'pageId'],
        [{ instagramAccountId: first.pageId }, 'instagramAccountId'],
      ];
      const other = await newMerchant();
      for (const [fields, field] of conflicts) {
        const created = await request('POST', '/api/merchants', {
          body: {
            name: 'x',
            instagramAccountId: accountId(),
            deliveryChannel: 'instagram',
            ...fields,
          },
        });
        expect(created.status).toBe(409);
        expect(created.body).toMatchObject({
          message: `${field} is already used by another merchant`,
        });
        const patched = await request('PATCH', `/api/merchants/${other.id}`, { body: fields });
        expect(patched.status).toBe(409);
      }
      // A merchant may give its own ids again.
      const own = await request('PATCH', `/api/merchants/${first.id}`, {
        body: { pageId: first.pageId, name: 'renamed' },
      });
      expect(own.status).toBe(200);
      const count = await database(radd.app).query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM merchants WHERE page_id = $1 OR instagram_account_id = $1`,
        [first.pageId],
      );
      expect(count[0].n).toBe(1);
    });

    it('lists merchants newest first with cursor pagination (admin)', async () => {
      const made = [await newMerchant(), await newMerchant(), await newMerchant()];
      const first = await request<{ items: Json[]; nextCursor: string | null }>(
        'GET',
        '/api/merchants?limit=2',
      );
      expect(first.status).toBe(200);
      expect(first.body.items.map((m) => m.id)).toEqual([made[2].id, made[1].id]);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await request<{ items: Json[]; nextCursor: string | null }>(
        'GET',
        `/api/merchants?limit=2&cursor=${first.body.nextCursor}`,
      );
      expect(second.body.items[0].id).toBe(made[0].id);
      expect(second.body.items[0]).not.toHaveProperty('inboundSecret');

      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: Json[]; nextCursor: string | null } } = await request(
          'GET',
          `/api/merchants?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        all.push(...page.body.items.map((m) => m.id as string));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(new Set(all).size).toBe(all.length);
      for (const merchant of made) expect(all).toContain(merchant.id);
    });

    it('updates: profile fields merge, null removes, credentials are replaced or removed', async () => {
      const merchant = await newMerchant({
        credentials: { instagramAccessToken: 'IGAA-old' },
        profile: { tone: 'ودود', workingHours: '10-10' },
      });
      await database(radd.app).query(`UPDATE merchants SET needs_reauth = true WHERE id = $1`, [
        merchant.id,
      ]);
      const res = await request('PATCH', `/api/merchants/${merchant.id}`, {
        body: {
          name: 'اسم جديد',
          deliveryChannel: 'manychat',
          profile: { tone: null, returnPolicy: 'ترجيع خلال 3 أيام' },
          credentials: { instagramAccessToken: 'IGAA-new', manychatApiKey: 'mc-new' },
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'اسم جديد',
        deliveryChannel: 'manychat',
        hasInstagramAccessToken: true,
        hasManychatApiKey: true,
        needsReauth: false,
        profile: { workingHours: '10-10', returnPolicy: 'ترجيع خلال 3 أيام', language: 'ar-IQ' },
      });
      expect(res.body.profile).not.toHaveProperty('tone');

      const cleared = await request('PATCH', `/api/merchants/${merchant.id}`, {
        body: { credentials: { instagramAccessToken: null } },
      });
      expect(cleared.body).toMatchObject({
        hasInstagramAccessToken: false,
        hasManychatApiKey: true,
      });
    });

    it('lets a merchant read and edit itself, but not move its webhook routing', async () => {
      const merchant = await newMerchant();
      const own = merchantToken(radd.app, merchant.id);
      expect((await request('GET', `/api/merchants/${merchant.id}`, { token: own })).status).toBe(
        200,
      );
      const edit = await request('PATCH', `/api/merchants/${merchant.id}`, {
        token: own,
        body: { profile: { handoverMessage: 'راح يرد عليك واحد من الفريق' } },
      });
      expect(edit.status).toBe(200);
      const move = await request('PATCH', `/api/merchants/${merchant.id}`, {
        token: own,
        body: { instagramAccountId: accountId() },
      });
      expect(move.status).toBe(403);
      expect(move.body.message).toMatch(/admin/);
    });

    it('rotates the inbound secret: the new one works, the old one no longer does', async () => {
      const merchant = await newMerchant({ deliveryChannel: 'manychat' });
      const own = merchantToken(radd.app, merchant.id);
      const res = await request('POST', `/api/merchants/${merchant.id}/inbound-secret`, {
        token: own,
      });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(merchant.id);
      expect(res.body.inboundSecret).not.toBe(merchant.inboundSecret);
      const send = (secret: string) =>
        fetch(`${radd.url}/webhooks/manychat/${merchant.id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-radd-secret': secret },
          body: JSON.stringify({ subscriber_id: '9', text: 'hi' }),
        });
      expect((await send(merchant.inboundSecret as string)).status).toBe(401);
      expect((await send(res.body.inboundSecret as string)).status).toBe(202);
    });

    it('answers 404 for a merchant that does not exist', async () => {
      const res = await request('GET', '/api/merchants/00000000-0000-4000-8000-000000000000');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'merchant not found',
      });
    });
  });

  describe('products', () => {
    let merchant: Json & { id: string };
    let token: string;
    beforeAll(async () => {
      merchant = await newMerchant();
      token = merchantToken(radd.app, merchant.id);
    });
    const products = () => `/api/merchants/${merchant.id}/products`;

    it('creates, reads, updates and deletes a product; sku is unique per merchant', async () => {
      const created = await request('POST', products(), {
        token,
        body: { sku: 'DRESS-1', name: 'فستان أسود', price: 25000 },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        sku: 'DRESS-1',
        name: 'فستان أسود',
        price: 25000,
        currency: 'IQD',
        inStock: true,
        imageUrl: null,
        description: null,
      });
      const id = created.body.id as string;
      expect((await request('GET', `${products()}/${id}`, { token })).body).toMatchObject({ id });

      const duplicate = await request('POST', products(), {
        token,
        body: { sku: 'DRESS-1', name: 'آخر', price: 1 },
      });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.message).toContain('DRESS-1');

      // The same sku at another merchant is fine.
      const other = await newMerchant();
      expect(
        (
          await request('POST', `/api/merchants/${other.id}/products`, {
            body: { sku: 'DRESS-1', name: 'x', price: 1 },
          })
        ).status,
      ).toBe(201);

      const updated = await request('PATCH', `${products()}/${id}`, {
        token,
        body: {
          price: 30000,
          inStock: false,
          imageUrl: 'https://cdn.example.com/d.jpg',
          currency: 'USD',
        },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        price: 30000,
        inStock: false,
        currency: 'USD',
        sku: 'DRESS-1',
      });
      const unset = await request('PATCH', `${products()}/${id}`, {
        token,
        body: { imageUrl: null },
      });
      expect(unset.body.imageUrl).toBeNull();

      expect((await request('DELETE', `${products()}/${id}`, { token })).status).toBe(204);
      expect((await request('GET', `${products()}/${id}`, { token })).status).toBe(404);
      expect((await request('DELETE', `${products()}/${id}`, { token })).status).toBe(404);
    });

    it('lists the catalogue in sku order with cursor pagination', async () => {
      const shop = await newMerchant();
      for (const sku of ['C', 'A', 'B', 'E', 'D']) {
        await request('POST', `/api/merchants/${shop.id}/products`, {
          body: { sku, name: sku, price: 1000 },
        });
      }
      const skus: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: Json[]; nextCursor: string | null } } =
          await request(
            'GET',
            `/api/merchants/${shop.id}/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          );
        expect(page.status).toBe(200);
        skus.push(...page.body.items.map((p) => p.sku as string));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(skus).toEqual(['A', 'B', 'C', 'D', 'E']);
    });

    it('imports a JSON array: creates new skus, replaces existing ones', async () => {
      const shop = await newMerchant();
      const path = `/api/merchants/${shop.id}/products/import`;
      await request('POST', `/api/merchants/${shop.id}/products`, {
        body: { sku: 'OLD', name: 'قديم', price: 1, imageUrl: 'https://x.example/a.png' },
      });
      const res = await request('POST', path, {
        body: [
          { sku: 'OLD', name: 'محدث', price: 2000 },
          { sku: 'NEW-1', name: 'جديد', price: 15000, currency: 'IQD', inStock: false },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imported: 2, created: 1, updated: 1 });
      const list = await request<{ items: Json[] }>('GET', `/api/merchants/${shop.id}/products`);
      expect(list.body.items).toEqual([
        expect.objectContaining({ sku: 'NEW-1', price: 15000, inStock: false }),
        expect.objectContaining({ sku: 'OLD', name: 'محدث', price: 2000, imageUrl: null }),
      ]);
    });

    it('imports CSV with quotes, CRLF and a BOM, and 5,000 rows at once', async () => {
      const shop = await newMerchant();
      const path = `/api/merchants/${shop.id}/products/import`;
      const csv =
        '\uFEFFsku,name,description,price,currency,in_stock,imageUrl\r\n' +
        'S-1,"قميص, أبيض","يقول ""ممتاز""",12000,IQD,yes,\r\n' +
        'S-2,بنطرون,"سطر أول\nسطر ثاني",18000,,no,https://cdn.example.com/p.jpg\r\n';
      const res = await request('POST', path, { raw: { contentType: 'text/csv', data: csv } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imported: 2, created: 2, updated: 0 });
      const list = await request<{ items: Json[] }>('GET', `/api/merchants/${shop.id}/products`);
      expect(list.body.items).toEqual([
        expect.objectContaining({
          sku: 'S-1',
          name: 'قميص, أبيض',
          description: 'يقول "ممتاز"',
          inStock: true,
        }),
        expect.objectContaining({
          sku: 'S-2',
          description: 'سطر أول\nسطر ثاني',
          inStock: false,
          currency: 'IQD',
        }),
      ]);

      const rows = Array.from(
        { length: 5000 },
        (_, i) => `BULK-${i},منتج ${i},,${1000 + i},IQD,true,`,
      );
      const bulk = await request('POST', path, {
        raw: {
          contentType: 'text/csv; charset=utf-8',
          data: ['sku,name,description,price,currency,inStock,imageUrl', ...rows].join('\n'),
        },
      });
      expect(bulk.status).toBe(200);
      expect(bulk.body).toEqual({ imported: 5000, created: 5000, updated: 0 });
    });

    it('imports all or nothing, listing every bad row by number', async () => {
      const shop = await newMerchant();
      const path = `/api/merchants/${shop.id}/products/import`;
      const res = await request('POST', path, {
        body: [
          { sku: 'OK-1', name: 'تمام', price: 1000 },
          { sku: 'BAD-2', name: 'سعر غلط', price: 'غالي' },
          { sku: 'OK-1', name: 'مكرر', price: 1000 },
          { sku: 'BAD-4', name: 'x', price: 5, colour: 'red' },
          'not an object',
        ],
      });
      expect(res.status).toBe(400);
      const message = res.body.message as string;
      expect(message).toMatch(/^nothing was imported/);
      expect(message).toContain('row 2: price must be an integer number');
      expect(message).toContain('row 3: sku "OK-1" repeats row 1');
      expect(message).toContain('row 4: colour is not an accepted field');
      expect(message).toContain('row 5: must be an object');
      expect(message).not.toContain('row 1:');
      const list = await request<{ items: Json[] }>('GET', `/api/merchants/${shop.id}/products`);
      expect(list.body.items).toEqual([]);

      const csv = await request('POST', path, {
        raw: { contentType: 'text/csv', data: 'sku,name,price\nA,a,1\nB,b,-5\nC,c\n' },
      });
      expect(csv.status).toBe(400);
      expect(csv.body.message).toContain('row 2: price must not be less than 0');
      expect(csv.body.message).toContain('row 3: has 2 cells, the header has 3');

      const tooMany = await request('POST', path, {
        body: Array.from({ length: 5001 }, (_, i) => ({ sku: `X${i}`, name: 'x', price: 1 })),
      });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.message).toMatch(/at most 5000 rows/);
      expect(
        (await request<{ items: Json[] }>('GET', `/api/merchants/${shop.id}/products`)).body.items,
      ).toEqual([]);
    });
  });

  describe('conversations', () => {
    let merchant: Json & { id: string };
    let token: string;
    const ids: string[] = [];

    beforeAll(async () => {
      merchant = await newMerchant();
      token = merchantToken(radd.app, merchant.id);
      // Three customers write; the second one later again, so it is the latest.
      const base = Date.now() - 60_000;
      const messages: Array<[string, string, string, number]> = [
        ['c-1', 'm-1', 'هلو', base],
        ['c-2', 'm-2', 'شكد سعر الفستان؟', base + 1000],
        ['c-3', 'm-3', 'السلام عليكم', base + 2000],
        ['c-2', 'm-4', 'وبيش التوصيل؟', base + 3000],
      ];
      for (const [customer, mid, text, at] of messages) {
        expect(
          (
            await postSigned(
              radd.url,
              textDm(merchant.instagramAccountId as string, customer, mid, text, at),
            )
          ).status,
        ).toBe(200);
      }
      await eventually(async () => {
        const [row] = await database(radd.app).query<Array<{ n: string }>>(
          `SELECT count(*) AS n FROM messages WHERE merchant_id = $1`,
          [merchant.id],
        );
        return Number(row.n) === 4 ? true : undefined;
      });
      await queue(radd.app, QueueName.AiResponse).obliterate({ force: true });
      const rows = await database(radd.app).query<Array<{ id: string; igsid: string }>>(
        `SELECT c.id, cu.igsid FROM conversations c JOIN customers cu ON cu.id = c.customer_id
          WHERE c.merchant_id = $1 ORDER BY c.last_message_at DESC`,
        [merchant.id],
      );
      ids.push(...rows.map((row) => row.id));
      expect(rows.map((row) => row.igsid)).toEqual(['c-2', 'c-3', 'c-1']);
    });

    const path = () => `/api/merchants/${merchant.id}/conversations`;

    it('lists conversations latest first, with the customer and the bot state', async () => {
      const res = await request<{ items: Json[]; nextCursor: string | null }>('GET', path(), {
        token,
      });
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items.map((c) => c.id)).toEqual(ids);
      expect(res.body.items[0]).toEqual({
        id: ids[0],
        customer: { igsid: 'c-2', username: null, name: null },
        status: 'open',
        botPaused: false,
        needsHuman: false,
        lastMessageAt: expect.any(String),
        lastCustomerMessageAt: expect.any(String),
      });
    });

    it('pages with limit and cursor without repeating or skipping', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: Json[]; nextCursor: string | null } } =
          await request('GET', `${path()}?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token });
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((c) => c.id as string));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(ids);
    });

    it('filters by status and by needsHuman', async () => {
      await database(radd.app).query(`UPDATE conversations SET status = 'closed' WHERE id = $1`, [
        ids[2],
      ]);
      await database(radd.app).query(`UPDATE conversations SET needs_human = true WHERE id = $1`, [
        ids[1],
      ]);
      const closed = await request<{ items: Json[] }>('GET', `${path()}?status=closed`, { token });
      expect(closed.body.items.map((c) => c.id)).toEqual([ids[2]]);
      const open = await request<{ items: Json[] }>('GET', `${path()}?status=open`, { token });
      expect(open.body.items.map((c) => c.id)).toEqual([ids[0], ids[1]]);
      const waiting = await request<{ items: Json[] }>('GET', `${path()}?needsHuman=true`, {
        token,
      });
      expect(waiting.body.items.map((c) => c.id)).toEqual([ids[1]]);
      const notWaiting = await request<{ items: Json[] }>(
        'GET',
        `${path()}?needsHuman=false&status=open`,
        {
          token,
        },
      );
      expect(notWaiting.body.items.map((c) => c.id)).toEqual([ids[0]]);
    });

    it('shows messages newest first, paginated', async () => {
      const res = await request<{ items: Json[]; nextCursor: string | null }>(
        'GET',
        `${path()}/${ids[0]}/messages?limit=1`,
        { token },
      );
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        {
          id: expect.any(String),
          direction: 'in',
          sender: 'customer',
          type: 'text',
          text: 'وبيش التوصيل؟',
          attachments: [],
          intent: null,
          deliveryStatus: null,
          deliveryError: null,
          channel: null,
          deleted: false,
          createdAt: expect.any(String),
        },
      ]);
      const next = await request<{ items: Json[]; nextCursor: string | null }>(
        'GET',
        `${path()}/${ids[0]}/messages?limit=1&cursor=${res.body.nextCursor}`,
        { token },
      );
      expect(next.body.items.map((m) => m.text)).toEqual(['شكد سعر الفستان؟']);
      expect(next.body.nextCursor).toBeNull();
    });

    it('shows why a message failed (INTERFACE §3.7: failed, with a reason)', async () => {
      const reason = 'window_closed: the customer last wrote more than 24 hours ago';
      const [failed] = await database(radd.app).query<Array<{ id: string }>>(
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text,
                               delivery_status, delivery_error, occurred_at)
         VALUES ($1, $2, 'out', 'bot', 'text', 'هلا بيك', 'failed', $3, now() + interval '1 hour')
         RETURNING id`,
        [merchant.id, ids[0], reason],
      );
      try {
        const res = await request<{ items: Json[] }>(
          'GET',
          `${path()}/${ids[0]}/messages?limit=1`,
          { token },
        );
        expect(res.body.items).toEqual([
          expect.objectContaining({
            id: failed.id,
            deliveryStatus: 'failed',
            deliveryError: reason,
          }),
        ]);
      } finally {
        await database(radd.app).query(`DELETE FROM messages WHERE id = $1`, [failed.id]);
      }
    });

    it('pauses the bot (default BOT_PAUSE_ON_HUMAN_MINUTES, or the minutes given) and resumes it', async () => {
      const paused = await request('POST', `${path()}/${ids[0]}/pause`, { token });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ id: ids[0], botPaused: true });
      const [row] = await database(radd.app).query<Array<{ minutes: number }>>(
        `SELECT round(extract(epoch FROM bot_paused_until - now()) / 60)::int AS minutes FROM conversations WHERE id = $1`,
        [ids[0]],
      );
      expect(row.minutes).toBe(45);

      const custom = await request('POST', `${path()}/${ids[1]}/pause`, {
        token,
        body: { minutes: 5 },
      });
      expect(custom.body).toMatchObject({ botPaused: true, needsHuman: true });
      const [five] = await database(radd.app).query<Array<{ minutes: number }>>(
        `SELECT round(extract(epoch FROM bot_paused_until - now()) / 60)::int AS minutes FROM conversations WHERE id = $1`,
        [ids[1]],
      );
      expect(five.minutes).toBe(5);

      // As `curl -X POST -H 'Content-Type: application/json'` sends it: the header, no body.
      const resumed = await fetch(`${radd.url}${path()}/${ids[1]}/resume`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      expect(resumed.status).toBe(200);
      expect(await resumed.json()).toMatchObject({ botPaused: false, needsHuman: false });
      const [cleared] = await database(radd.app).query<Array<{ bot_paused_until: Date | null }>>(
        `SELECT bot_paused_until FROM conversations WHERE id = $1`,
        [ids[1]],
      );
      expect(cleared.bot_paused_until).toBeNull();
    });

    it('answers 404 for an unknown conversation', async () => {
      const unknown = '00000000-0000-4000-8000-000000000001';
      for (const [method, suffix] of [
        ['GET', 'messages'],
        ['POST', 'pause'],
        ['POST', 'resume'],
      ]) {
        const res = await request(method, `${path()}/${unknown}/${suffix}`, { token });
        expect(res.status).toBe(404);
        expect(res.body.message).toBe('conversation not found');
      }
    });
  });

  describe('tokens, limits and documentation', () => {
    it('reads the Authorization scheme in any case', async () => {
      for (const scheme of ['bearer', 'BEARER']) {
        const res = await fetch(`${radd.url}/api/merchants?limit=1`, {
          headers: { authorization: `${scheme} ${admin}` },
        });
        expect(res.status).toBe(200);
      }
    });

    it('prints tokens from the CLI that the API accepts', async () => {
      const merchant = await newMerchant();
      const env = readEnvironment(undefined, { requireSecrets: false });
      const adminCli = issueToken(['--role', 'admin', '--sub', 'ops', '--ttl', '600'], env);
      const merchantCli = issueToken(['--role', 'merchant', '--merchant', merchant.id], env);
      expect(radd.app.get(TokenService).verify(adminCli)).toEqual({ sub: 'ops', role: 'admin' });
      expect((await request('GET', '/api/merchants?limit=1', { token: adminCli })).status).toBe(
        200,
      );
      expect(
        (await request('GET', `/api/merchants/${merchant.id}`, { token: merchantCli })).status,
      ).toBe(200);
      expect((await request('GET', '/api/merchants', { token: merchantCli })).status).toBe(403);
      expect(() => issueToken(['--role', 'merchant'], env)).toThrow(/--merchant/);
      expect(() => issueToken(['--role', 'root'], env)).toThrow(/admin or merchant/);
      expect(() => issueToken(['--role', 'admin', '--ttl', 'soon'], env)).toThrow(/--ttl/);
    });

    it('serves Swagger UI at /docs and the OpenAPI document at /docs-json, without a token', async () => {
      const ui = await fetch(`${radd.url}/docs`);
      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-type')).toMatch(/text\/html/);
      expect(await ui.text()).toMatch(/swagger/i);
      const doc = (await (await fetch(`${radd.url}/docs-json`)).json()) as {
        paths: Record<string, unknown>;
        components: {
          schemas: Record<string, { properties?: Record<string, unknown> }>;
          securitySchemes: Json;
        };
      };
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/merchants',
          '/api/merchants/{id}',
          '/api/merchants/{id}/inbound-secret',
          '/api/merchants/{id}/products',
          '/api/merchants/{id}/products/import',
          '/api/merchants/{id}/products/{productId}',
          '/api/merchants/{id}/conversations',
          '/api/merchants/{id}/conversations/{conversationId}/messages',
          '/api/merchants/{id}/conversations/{conversationId}/pause',
          '/api/merchants/{id}/conversations/{conversationId}/resume',
        ]),
      );
      expect(Object.keys(doc.components.schemas.CreateMerchantDto.properties ?? {})).toEqual(
        expect.arrayContaining([
          'name',
          'instagramAccountId',
          'deliveryChannel',
          'credentials',
          'profile',
        ]),
      );
      expect(doc.components.securitySchemes).toHaveProperty('bearer');
      const assets = await fetch(`${radd.url}/docs/swagger-ui-bundle.js`);
      expect(assets.status).toBe(200);
      expect((await assets.arrayBuffer()).byteLength).toBeGreaterThan(0);
    });

    it('limits each token to API_RATE_LIMIT_PER_MINUTE requests on /api/*', async () => {
      const limited = await startApp({ API_RATE_LIMIT_PER_MINUTE: '3' });
      try {
        const token = adminToken(limited.app, 'busy');
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          statuses.push(
            (await call(limited.url, 'GET', '/api/merchants?limit=1', { token })).status,
          );
        }
        expect(statuses).toEqual([200, 200, 200, 429]);
        const refused = await call(limited.url, 'GET', '/api/merchants?limit=1', { token });
        expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        // Another token has its own budget; public routes are not limited.
        const other = adminToken(limited.app, 'calm');
        expect(
          (await call(limited.url, 'GET', '/api/merchants?limit=1', { token: other })).status,
        ).toBe(200);
        expect((await fetch(`${limited.url}/health/live`)).status).toBe(200);
      } finally {
        await limited.close();
      }
    });

    it('keeps /api bodies small but lets an import be large', async () => {
      const res = await request('POST', '/api/merchants', {
        raw: {
          contentType: 'application/json',
          data: JSON.stringify({
            name: 'x'.repeat(300 * 1024),
            instagramAccountId: '1',
            deliveryChannel: 'instagram',
          }),
        },
      });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });
  });
});

import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from 'test/utils/app';
import {
  createMerchant,
  customerEvent,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';
import { QueueName } from 'src/queue/queue.constants';
import { CustomerMessageBatch } from 'src/webhook/customer-message.batch';
import { parseInstagramWebhook } from 'src/webhook/instagram-event.parser';
import type { MessageEvent } from 'src/webhook/instagram-events';
import { WebhookIngestionService } from 'src/webhook/webhook-ingestion.service';

describe('Instagram webhook: bodies processed together (e2e)', () => {
  let radd: TestApp;

  beforeAll(async () => {
    radd = await startApp({ AI_DEBOUNCE_MS: '60000' });
  });
  afterAll(() => radd.close());

  const db = () => database(radd.app);

  /** Stores bodies as the API would, without queuing them: the test runs them itself. */
  async function store(bodies: string[]): Promise<string[]> {
    const ids = bodies.map(() => randomUUID());
    await db().query(
      `INSERT INTO webhook_events (id, source, raw_body) SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])`,
      [ids, ids.map(() => 'instagram'), bodies.map((body) => Buffer.from(body))],
    );
    return ids;
  }

  it('a body whose event cannot be stored holds up none of the others', async () => {
    const merchant = await createMerchant(radd.app);
    await db().query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poisoned message'; END IF;
        RETURN NEW;
      END $$`);
    await db().query(
      `CREATE TRIGGER tr_refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
    );
    try {
      const texts = ['هلا', 'شكد السعر؟', 'poison', 'عندكم توصيل؟', 'شكرا'];
      const ids = await store(
        texts.map((text, i) =>
          textDm(merchant.instagramAccountId, `c-batch-${i}`, `m-batch-${i}`, text),
        ),
      );
      const outcomes = await radd.app.get(WebhookIngestionService).processMany(ids);

      expect(outcomes.map((outcome) => (outcome instanceof Error ? 'error' : outcome))).toEqual([
        'processed',
        'processed',
        'error',
        'processed',
        'processed',
      ]);
      expect(String(outcomes[2])).toContain('poisoned message');
      const stored = await db().query<Array<{ text: string; owed: boolean }>>(
        `SELECT m.text, c.reply_owed_at IS NOT NULL AS owed
           FROM messages m JOIN conversations c ON c.id = m.conversation_id
          WHERE m.merchant_id = $1 ORDER BY m.mid`,
        [merchant.id],
      );
      expect(stored).toEqual(
        texts.filter((text) => text !== 'poison').map((text) => ({ text, owed: true })),
      );
      const statuses = await db().query<Array<{ id: string; status: string }>>(
        `SELECT id, status FROM webhook_events WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      expect(new Map(statuses.map((row) => [row.id, row.status]))).toEqual(
        new Map(ids.map((id, i) => [id, i === 2 ? 'received' : 'processed'])),
      );
    } finally {
      await db().query(`DROP TRIGGER tr_refuse_poison ON messages`);
      await db().query(`DROP FUNCTION refuse_poison()`);
    }
  });

  it('takes bodies of one customer in order, and a body twice only once', async () => {
    const merchant = await createMerchant(radd.app);
    const now = Date.now();
    const bodies = [0, 1, 2].map((i) =>
      textDm(merchant.instagramAccountId, 'c-order', `m-order-${i}`, `رسالة ${i}`, now + i),
    );
    const ids = await store([...bodies, bodies[1]]);
    const again = await store([bodies[0]]);
    const outcomes = await radd.app
      .get(WebhookIngestionService)
      .processMany([...ids, ids[0], ...again]);
    expect(outcomes).toEqual(Array(6).fill('processed'));
    const stored = await db().query<Array<{ mid: string }>>(
      `SELECT mid FROM messages WHERE merchant_id = $1 ORDER BY occurred_at`,
      [merchant.id],
    );
    expect(stored.map((row) => row.mid)).toEqual(['m-order-0', 'm-order-1', 'm-order-2']);
  });

  async function pendingReplies(): Promise<string[]> {
    const jobs = await queue(radd.app, QueueName.AiResponse).getJobs(['delayed', 'waiting']);
    return jobs.map((job) => (job.data as { conversationId: string }).conversationId);
  }

  it("stores many customers' messages of two merchants together: each once, one conversation per customer", async () => {
    const shop = await createMerchant(radd.app);
    const other = await createMerchant(radd.app);
    const now = Date.now();
    const [earlier] = await store([textDm(shop.instagramAccountId, 'c-x', 'm-x0', 'قبل', now)]);
    await radd.app.get(WebhookIngestionService).processMany([earlier]);
    const heart = customerEvent(shop.instagramAccountId, 'c-y', now + 3, {
      message: { mid: 'm-y1', attachments: [{ type: 'like_heart' }] },
    });
    const ids = await store([
      textDm(shop.instagramAccountId, 'c-x', 'm-x1', 'هلا', now + 1),
      textDm(other.instagramAccountId, 'c-z', 'm-z1', 'بيش؟', now + 2),
      heart,
      textDm(shop.instagramAccountId, 'c-x', 'm-x2', 'عندكم أحمر؟', now + 4),
      textDm(shop.instagramAccountId, 'c-x', 'm-x1', 'هلا', now + 1),
      textDm(shop.instagramAccountId, 'c-x', 'm-x0', 'قبل', now),
    ]);

    const outcomes = await radd.app.get(WebhookIngestionService).processMany(ids);

    expect(outcomes).toEqual(Array(6).fill('processed'));
    const messages = await db().query<Array<{ mid: string; customer: string; type: string }>>(
      `SELECT m.mid, cu.igsid AS customer, m.type FROM messages m
         JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
        WHERE m.merchant_id = ANY($1::uuid[]) ORDER BY m.mid`,
      [[shop.id, other.id]],
    );
    expect(messages).toEqual([
      { mid: 'm-x0', customer: 'c-x', type: 'text' },
      { mid: 'm-x1', customer: 'c-x', type: 'text' },
      { mid: 'm-x2', customer: 'c-x', type: 'text' },
      { mid: 'm-y1', customer: 'c-y', type: 'like_heart' },
      { mid: 'm-z1', customer: 'c-z', type: 'text' },
    ]);
    const conversations = await db().query<
      Array<{ customer: string; lastAt: Date; owed: boolean; customers: string }>
    >(
      `SELECT cu.igsid AS customer, c.last_customer_message_at AS "lastAt", c.reply_owed_at IS NOT NULL AS owed,
              (SELECT count(*) FROM customers k WHERE k.merchant_id = cu.merchant_id AND k.igsid = cu.igsid) AS customers
         FROM conversations c JOIN customers cu ON cu.id = c.customer_id
        WHERE c.merchant_id = ANY($1::uuid[]) ORDER BY cu.igsid`,
      [[shop.id, other.id]],
    );
    expect(conversations).toEqual([
      { customer: 'c-x', lastAt: new Date(now + 4), owed: true, customers: '1' },
      { customer: 'c-y', lastAt: new Date(now + 3), owed: false, customers: '1' },
      { customer: 'c-z', lastAt: new Date(now + 2), owed: true, customers: '1' },
    ]);
    const recorded = await db().query<Array<{ key: string; webhook: string; status: string }>>(
      `SELECT event_key AS key, webhook_event_id AS webhook, status FROM inbound_events
        WHERE merchant_id = ANY($1::uuid[]) ORDER BY event_key`,
      [[shop.id, other.id]],
    );
    expect(recorded).toEqual([
      { key: 'm-x0', webhook: earlier, status: 'applied' },
      { key: 'm-x1', webhook: ids[0], status: 'applied' },
      { key: 'm-x2', webhook: ids[3], status: 'applied' },
      { key: 'm-y1', webhook: ids[2], status: 'applied' },
      { key: 'm-z1', webhook: ids[1], status: 'applied' },
    ]);
    // One pending reply per conversation owed one (a burst is answered once).
    const owed = await db().query<Array<{ id: string }>>(
      `SELECT c.id FROM conversations c JOIN customers cu ON cu.id = c.customer_id
        WHERE c.merchant_id = ANY($1::uuid[]) AND cu.igsid IN ('c-x', 'c-z')`,
      [[shop.id, other.id]],
    );
    const pending = await pendingReplies();
    for (const { id } of owed) expect(pending.filter((c) => c === id)).toHaveLength(1);
  });

  it('answers again, without storing again, a message whose earlier run stopped before queuing its reply', async () => {
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-again', 'm-again', 'بيش التيشيرت؟');
    const [id] = await store([body]);
    // The earlier run: the message committed, then the process died before anything else.
    const [event] = parseInstagramWebhook(JSON.parse(body)) as MessageEvent[];
    const [route] = (
      await db().query<Array<{ id: string; deliveryChannel: 'manychat' | 'instagram' }>>(
        `SELECT id, delivery_channel AS "deliveryChannel" FROM merchants WHERE id = $1`,
        [merchant.id],
      )
    ).map((row) => ({ ...row, instagramAccountId: merchant.instagramAccountId, pageId: null }));
    const batch = radd.app.get(CustomerMessageBatch);
    const [first] = await batch.store([{ webhookEventId: id, merchant: route, event }]);
    expect(first?.answer?.conversationId).toBeDefined();
    const conversationId = first?.answer?.conversationId ?? '';
    expect(await pendingReplies()).not.toContain(conversationId);
    // The same identity once more is left to the caller.
    expect(await batch.store([{ webhookEventId: id, merchant: route, event }])).toEqual([null]);

    expect(await radd.app.get(WebhookIngestionService).processMany([id])).toEqual(['processed']);

    const [count] = await db().query<Array<{ count: string }>>(
      `SELECT count(*) FROM messages WHERE merchant_id = $1`,
      [merchant.id],
    );
    expect(count.count).toBe('1');
    expect(await pendingReplies()).toContain(conversationId);
  });

  it('applies a message and a reaction to it in one group, in order', async () => {
    const merchant = await createMerchant(radd.app);
    const now = Date.now();
    const ids = await store([
      textDm(merchant.instagramAccountId, 'c-mixed', 'm-mixed', 'شكد؟', now),
      customerEvent(merchant.instagramAccountId, 'c-mixed', now + 1, {
        reaction: { mid: 'm-mixed', action: 'react', reaction: 'love', emoji: '❤️' },
      }),
    ]);
    expect(await radd.app.get(WebhookIngestionService).processMany(ids)).toEqual([
      'processed',
      'processed',
    ]);
    const [message] = await db().query<Array<{ meta: { reactions?: unknown[] } }>>(
      `SELECT meta FROM messages WHERE merchant_id = $1 AND mid = 'm-mixed'`,
      [merchant.id],
    );
    expect(message.meta.reactions).toHaveLength(1);
  });

  it('stores a message whose emoji was cut in half, with U+FFFD for the half, and owes it a reply', async () => {
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-half', 'm-half', 'شكرا \ud83d');
    expect(body).toContain('\\ud83d');
    const [id] = await store([body]);
    expect(await radd.app.get(WebhookIngestionService).processMany([id])).toEqual(['processed']);
    const [row] = await db().query<
      Array<{ text: string; payload: { message: { text: string } }; owed: boolean }>
    >(
      `SELECT m.text, e.payload, c.reply_owed_at IS NOT NULL AS owed FROM messages m
         JOIN inbound_events e ON e.event_key = m.mid AND e.merchant_id = m.merchant_id
         JOIN conversations c ON c.id = m.conversation_id
        WHERE m.merchant_id = $1`,
      [merchant.id],
    );
    expect(row.text).toBe('شكرا \ufffd');
    expect(row.payload.message.text).toBe('شكرا \ufffd');
    expect(row.owed).toBe(true);
  });

  it('drops U+0000 from what a customer wrote, which PostgreSQL text cannot hold', async () => {
    const merchant = await createMerchant(radd.app);
    const body = textDm(merchant.instagramAccountId, 'c-nul', 'm-nul', 'ha\u0000lo');
    expect(body).toContain('\\u0000');
    const res = await postSigned(radd.url, body);
    expect(res.status).toBe(200);
    const text = await eventually(async () => {
      const [row] = await db().query<Array<{ text: string }>>(
        `SELECT text FROM messages WHERE merchant_id = $1`,
        [merchant.id],
      );
      return row?.text;
    });
    expect(text).toBe('halo');
  });
});

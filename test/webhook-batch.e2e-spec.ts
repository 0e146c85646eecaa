import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from 'test/utils/app';
import { createMerchant, database, eventually, postSigned, textDm } from 'test/utils/instagram';
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

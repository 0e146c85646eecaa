import { startApp, type TestApp } from 'test/utils/app';
import { createMerchant, database } from 'test/utils/instagram';

function gauge(text: string, name: string, work: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{work="${work}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/**
 * What PostgreSQL says is owed, on /metrics. The sweepers that would take the rows below up run
 * once an hour here (and once at start, before the rows exist), so the figures stay put.
 */
describe('owed work on /metrics (e2e)', () => {
  let radd: TestApp;
  beforeAll(async () => {
    radd = await startApp({ OUTBOX_SWEEP_MS: '3600000', AI_DEBOUNCE_MS: '60000' });
  });
  afterAll(() => radd.close());

  const scrape = async () => (await fetch(`${radd.url}/metrics`)).text();

  it('counts webhooks not processed, replies owed and replies not sent, and the age of the oldest', async () => {
    const quiet = await scrape();
    for (const work of ['webhook', 'reply', 'delivery']) {
      expect(gauge(quiet, 'radd_owed_work', work)).toBe(0);
      expect(gauge(quiet, 'radd_owed_work_oldest_seconds', work)).toBe(0);
    }

    const db = database(radd.app);
    const merchant = await createMerchant(radd.app);
    await db.query(
      `INSERT INTO webhook_events (source, raw_body, received_at)
       VALUES ('instagram', '{}', now() - interval '10 minutes'), ('instagram', '{}', now())`,
    );
    const [{ id: conversationId }] = await db.query<Array<{ id: string }>>(
      `WITH customer AS (
         INSERT INTO customers (merchant_id, igsid) VALUES ($1, 'c-owed') RETURNING id
       )
       INSERT INTO conversations (merchant_id, customer_id, reply_owed_at)
       SELECT $1, id, now() - interval '5 minutes' FROM customer RETURNING id`,
      [merchant.id],
    );
    await db.query(
      `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, delivery_status, occurred_at, created_at)
       VALUES ($1, $2, 'out', 'bot', 'text', 'هلا', 'queued', now(), now() - interval '2 minutes'),
              ($1, $2, 'out', 'bot', 'text', 'هلا', 'sent', now(), now() - interval '20 minutes'),
              ($1, $2, 'out', 'bot', 'text', 'هلا', 'queued', now(), now() - interval '30 hours')`,
      [merchant.id, conversationId],
    );

    const text = await scrape();
    expect(gauge(text, 'radd_owed_work', 'webhook')).toBe(2);
    expect(gauge(text, 'radd_owed_work', 'reply')).toBe(1);
    // A sent reply is not owed, nor one past Meta's 24-hour window.
    expect(gauge(text, 'radd_owed_work', 'delivery')).toBe(1);
    const oldest = (work: string) => gauge(text, 'radd_owed_work_oldest_seconds', work) ?? 0;
    expect(oldest('webhook')).toBeGreaterThanOrEqual(600);
    expect(oldest('webhook')).toBeLessThan(700);
    expect(oldest('reply')).toBeGreaterThanOrEqual(300);
    expect(oldest('delivery')).toBeGreaterThanOrEqual(120);
    expect(oldest('delivery')).toBeLessThan(200);
  });
});

import { startApp, type TestApp } from 'test/utils/app';
import { createMerchant, database, eventually, postSigned, textDm } from 'test/utils/instagram';
import { OwnRedis } from 'test/utils/redis-server';

describe('Instagram webhook: Redis down after the commit (e2e)', () => {
  let redis: OwnRedis;
  let radd: TestApp;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    radd = await startApp({ REDIS_URL: redis.url, OUTBOX_SWEEP_MS: '1000', AI_DEBOUNCE_MS: '0' });
  });
  afterAll(async () => {
    await radd.close();
    await redis.kill();
  });

  it('answers 200 while Redis is down, and processes the event once Redis is back', async () => {
    const merchant = await createMerchant(radd.app);
    await redis.kill();

    const body = textDm(merchant.instagramAccountId, 'c-outage', 'm-outage', 'اكو توصيل للموصل؟');
    const started = Date.now();
    const res = await postSigned(radd.url, body);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('EVENT_RECEIVED');
    expect(Date.now() - started).toBeLessThan(1_000);

    const status = async () => {
      const [row] = await database(radd.app).query<Array<{ status: string }>>(
        `SELECT status FROM webhook_events WHERE raw_body = $1`,
        [Buffer.from(body)],
      );
      return row?.status;
    };
    expect(await status()).toBe('received');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await status()).toBe('received');

    const back = Date.now();
    await redis.restart();
    await eventually(
      async () => ((await status()) === 'processed' ? true : undefined),
      60_000,
      'processing after the outage',
    );
    const recovery = Date.now() - back;
    expect(recovery).toBeLessThan(60_000);

    const messages = await database(radd.app).query<Array<{ text: string }>>(
      `SELECT text FROM messages WHERE merchant_id = $1 AND direction = 'in'`,
      [merchant.id],
    );
    expect(messages).toEqual([{ text: 'اكو توصيل للموصل؟' }]);
  }, 90_000);
});

describe('Redis back from an outage without its data (e2e)', () => {
  let redis: OwnRedis;
  let radd: TestApp;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    // No periodic sweep within the test, and reply jobs that wait a minute: only Redis coming
    // back can set things moving again in time.
    radd = await startApp({
      REDIS_URL: redis.url,
      OUTBOX_SWEEP_MS: '600000',
      AI_DEBOUNCE_MS: '60000',
    });
  });
  afterAll(async () => {
    await radd.close();
    await redis.kill();
  });

  it('queues again at once the events stored meanwhile and the replies whose jobs were lost', async () => {
    const merchant = await createMerchant(radd.app);
    const db = database(radd.app);
    const before = textDm(merchant.instagramAccountId, 'c-before', 'm-before', 'شكد سعر الجاكيت؟');
    expect((await postSigned(radd.url, before)).status).toBe(200);
    const owed = async (customer: string) => {
      const [row] = await db.query<Array<{ id: string; reply_owed_at: Date | null }>>(
        `SELECT c.id, c.reply_owed_at FROM conversations c JOIN customers cu ON cu.id = c.customer_id
          WHERE c.merchant_id = $1 AND cu.igsid = $2`,
        [merchant.id, customer],
      );
      return row;
    };
    const conversation = await eventually(async () => {
      const row = await owed('c-before');
      return row?.reply_owed_at ? row : undefined;
    });

    await redis.kill();
    const during = textDm(merchant.instagramAccountId, 'c-during', 'm-during', 'اكو قياس XL؟');
    expect((await postSigned(radd.url, during)).status).toBe(200);

    // Back, empty: the reply job of the first DM and the queueing of the second are gone.
    await redis.restart();
    await eventually(
      async () => ((await owed('c-during'))?.reply_owed_at ? true : undefined),
      15_000,
      'the event stored during the outage, processed',
    );
    await eventually(
      async () => {
        const [{ bot }] = await db.query<Array<{ bot: number }>>(
          `SELECT count(*)::int AS bot FROM messages WHERE conversation_id = $1 AND sender = 'bot'`,
          [conversation.id],
        );
        return bot > 0 ? bot : undefined;
      },
      15_000,
      'the reply owed before the outage',
    );
    const [{ bot }] = await db.query<Array<{ bot: number }>>(
      `SELECT count(*)::int AS bot FROM messages WHERE conversation_id = $1 AND sender = 'bot'`,
      [conversation.id],
    );
    expect(bot).toBe(1);
  }, 60_000);
});

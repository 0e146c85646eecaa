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

import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ModelBudget } from 'src/ai/model-budget';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import { readEnvironment } from 'src/config/env';
import { RedisService } from 'src/redis/redis.service';
import { startApp, type TestApp } from 'test/utils/app';
import { FakeGraph } from 'test/utils/fake-graph';
import { FakeOpenAi } from 'test/utils/fake-openai';
import { setCredentials } from 'test/utils/delivery';
import { createMerchant, database, eventually, postSigned, textDm } from 'test/utils/instagram';

interface Reply {
  text: string;
  meta: { ai: { source: string; reason?: string } };
}

/**
 * AI_DAILY_TOKENS_PER_MERCHANT: the fake model counts 458 tokens a call, so a cap of 800 lets a
 * merchant's second call through (458 used) and answers its third turn offline (916 used).
 */
describe('daily model tokens per merchant (e2e)', () => {
  let radd: TestApp;
  let model: FakeOpenAi;
  let graph: FakeGraph;

  beforeAll(async () => {
    [model, graph] = await Promise.all([FakeOpenAi.start(), FakeGraph.start()]);
    radd = await startApp({
      GRAPH_API_BASE_URL: graph.url,
      OPENAI_API_KEY: 'sk-test-key',
      OPENAI_BASE_URL: model.baseUrl,
      AI_DEBOUNCE_MS: '0',
      AI_DAILY_TOKENS_PER_MERCHANT: '800',
    });
  });
  afterAll(async () => {
    await radd.close();
    await Promise.all([model.close(), graph.close()]);
  });

  async function newMerchant(): Promise<string> {
    const merchant = await createMerchant(radd.app);
    await setCredentials(radd.app, merchant.id, { instagramAccessToken: 'EAAGpagetoken00000' });
    return merchant.instagramAccountId;
  }

  async function answer(account: string, customer: string): Promise<Reply> {
    const body = textDm(account, customer, `${customer}-m`, 'عدكم قمصان؟');
    expect((await postSigned(radd.url, body)).status).toBe(200);
    return eventually(async () => {
      const [row] = await database(radd.app).query<Reply[]>(
        `SELECT m.text, m.meta FROM messages m
           JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
          WHERE cu.igsid = $1 AND m.sender = 'bot'`,
        [customer],
      );
      return row;
    });
  }

  it("answers a merchant's turns offline once its tokens of the day are used, and no other merchant's", async () => {
    const busy = await newMerchant();
    const sources: string[] = [];
    for (const customer of ['cap-1', 'cap-2', 'cap-3']) {
      sources.push((await answer(busy, customer)).meta.ai.source);
    }
    expect(sources).toEqual(['model', 'model', 'offline']);
    expect(model.calls).toHaveLength(2);
    const capped = await answer(busy, 'cap-4');
    expect(capped.meta.ai).toMatchObject({ source: 'offline', reason: 'daily token cap' });
    expect(capped.text.length).toBeGreaterThan(0);

    const other = await newMerchant();
    expect((await answer(other, 'cap-other')).meta.ai.source).toBe('model');
    expect(model.calls).toHaveLength(3);
  });
});

describe('ModelBudget (e2e, Redis)', () => {
  const redis = new RedisService({
    url: readEnvironment(undefined, { requireSecrets: false }).REDIS_URL,
    prefix: `radd-test-${randomUUID()}`,
  });
  const budget = (cap: number, on = redis) =>
    new ModelBudget(on, { aiDailyTokensPerMerchant: cap } as BehaviourConfig);

  beforeAll(async () => {
    Logger.overrideLogger(false);
    await new Promise<void>((resolve) => redis.onReachable(resolve));
  });
  afterAll(async () => {
    const keys = await redis.client.keys(redis.key('*'));
    if (keys.length > 0) await redis.client.del(...keys);
    redis.onApplicationShutdown();
  });

  it("counts a merchant's tokens by UTC day, each merchant on its own", async () => {
    const capped = budget(1_000);
    const [shop, other] = [randomUUID(), randomUUID()];
    const day = new Date('2026-12-05T22:00:00Z');
    expect(await capped.allows(shop, day)).toBe(true);
    await capped.spend(shop, 999, day);
    expect(await capped.allows(shop, day)).toBe(true);
    await capped.spend(shop, 1, day);
    expect(await capped.allows(shop, day)).toBe(false);
    expect(await capped.allows(other, day)).toBe(true);
    expect(await capped.allows(shop, new Date('2026-12-06T00:00:01Z'))).toBe(true);
  });

  it('has no cap at 0, and lets calls through while Redis is away', async () => {
    const shop = randomUUID();
    await budget(1).spend(shop, 5);
    expect(await budget(1).allows(shop)).toBe(false);
    expect(await budget(0).allows(shop)).toBe(true);
    const away = new RedisService({ url: 'redis://127.0.0.1:9', prefix: 'radd-test' });
    try {
      expect(await budget(1, away).allows(shop)).toBe(true);
      await expect(budget(1, away).spend(shop, 5)).resolves.toBeUndefined();
    } finally {
      away.onApplicationShutdown();
    }
  });
});

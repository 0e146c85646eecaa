import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ModelBudget } from 'src/ai/model-budget';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import { readEnvironment } from 'src/config/env';
import { RedisService } from 'src/redis/redis.service';

describe('ModelBudget', () => {
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

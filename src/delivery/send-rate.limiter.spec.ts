import type { BehaviourConfig } from 'src/config/behaviour.config';
import { DEFAULT_DELIVERY_SETTINGS } from 'src/delivery/delivery-settings';
import { SendRateLimiter } from 'src/delivery/send-rate.limiter';
import type { RedisService } from 'src/redis/redis.service';

// Admission is this process's own bookkeeping: it never reaches Redis (slots themselves are
// taken in Redis; test/delivery-rate.e2e-spec.ts covers them). The client only learns the script.
const noRedis = { client: { defineCommand: () => undefined } } as unknown as RedisService;

function limiter(deliveryConcurrency: number, sendRatePerMerchant = 80): SendRateLimiter {
  const behaviour: BehaviourConfig = {
    aiDebounceMs: 0,
    botPauseOnHumanMinutes: 30,
    sendRatePerMerchant,
    deliveryConcurrency,
    aiConcurrency: 100,
    aiDailyTokensPerMerchant: 0,
  };
  return new SendRateLimiter(noRedis, behaviour, { ...DEFAULT_DELIVERY_SETTINGS });
}

describe('SendRateLimiter admission', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("lets a quarter of the delivery slots hold one merchant's jobs, and the others in", () => {
    const rates = limiter(20);
    for (let i = 0; i < 5; i += 1) expect(rates.admit('busy')).toBeNull();
    expect(rates.admit('busy')).not.toBeNull();
    expect(rates.admit('quiet')).toBeNull();
    rates.leave('busy');
    expect(rates.admit('busy')).toBeNull();
    expect(rates.admit('busy')).not.toBeNull();
  });

  it('admits one job per merchant at least, however few the slots', () => {
    const rates = limiter(2);
    expect(rates.admit('busy')).toBeNull();
    expect(rates.admit('busy')).not.toBeNull();
    rates.leave('busy');
    expect(rates.admit('busy')).toBeNull();
  });

  it('sets jobs aside due back one send interval apart, in the order they came', () => {
    // 80 sends a second over the limiter's 1.4 s window: one every 18 ms.
    const rates = limiter(4, 80);
    expect(rates.admit('busy')).toBeNull();
    const asides = [1, 2, 3].map(() => rates.admit('busy')?.ms);
    expect(asides).toEqual([18, 36, 54]);
    // Once they are due, the next one starts from now again.
    jest.advanceTimersByTime(1_000);
    expect(rates.admit('busy')?.ms).toBe(18);
    expect(rates.admit('quiet')).toBeNull();
  });
});

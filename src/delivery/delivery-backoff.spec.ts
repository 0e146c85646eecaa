import { DELIVERY_ATTEMPTS, deliveryBackoff } from 'src/delivery/delivery-backoff';
import { DeliveryFailure } from 'src/delivery/delivery-failure';

describe('deliveryBackoff', () => {
  it('grows exponentially from about 2 s', () => {
    expect(deliveryBackoff(1)).toBeGreaterThanOrEqual(1_600);
    expect(deliveryBackoff(1)).toBeLessThanOrEqual(2_000);
    expect(deliveryBackoff(4)).toBeGreaterThanOrEqual(12_800);
  });

  it('waits at most 5 minutes between attempts, unless the provider asked for longer', () => {
    for (let attempt = 1; attempt < DELIVERY_ATTEMPTS + 5; attempt += 1) {
      expect(deliveryBackoff(attempt)).toBeLessThanOrEqual(300_000);
    }
    const asked = new DeliveryFailure('transient', 'rate_limited', 'x', 1_200_000);
    expect(deliveryBackoff(12, 'delivery', asked)).toBe(1_200_000);
  });

  it('keeps a reply through a provider outage of 50 minutes, the shortest jitter included', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      let waited = 0;
      // The waits between the attempts: after the first failure, up to the last attempt.
      for (let attempt = 1; attempt < DELIVERY_ATTEMPTS; attempt += 1) {
        waited += deliveryBackoff(attempt);
      }
      expect(waited).toBeGreaterThanOrEqual(50 * 60_000);
      expect(waited).toBeLessThanOrEqual(70 * 60_000);
    } finally {
      random.mockRestore();
    }
  });

  it('never retries sooner than the provider asked, nor later than an hour', () => {
    const asked = new DeliveryFailure('transient', 'rate_limited', 'x', 30_000);
    expect(deliveryBackoff(1, 'delivery', asked)).toBe(30_000);
    const long = new DeliveryFailure('transient', 'rate_limited', 'x', 5 * 3_600_000);
    expect(deliveryBackoff(1, 'delivery', long)).toBe(3_600_000);
  });
});

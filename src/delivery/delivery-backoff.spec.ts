import { deliveryBackoff } from 'src/delivery/delivery-backoff';
import { DeliveryFailure } from 'src/delivery/delivery-failure';

describe('deliveryBackoff', () => {
  it('grows exponentially from about 2 s', () => {
    expect(deliveryBackoff(1)).toBeGreaterThanOrEqual(1_600);
    expect(deliveryBackoff(1)).toBeLessThanOrEqual(2_000);
    expect(deliveryBackoff(4)).toBeGreaterThanOrEqual(12_800);
  });

  it('never retries sooner than the provider asked, nor later than an hour', () => {
    const asked = new DeliveryFailure('transient', 'rate_limited', 'x', 30_000);
    expect(deliveryBackoff(1, 'delivery', asked)).toBe(30_000);
    const long = new DeliveryFailure('transient', 'rate_limited', 'x', 5 * 3_600_000);
    expect(deliveryBackoff(1, 'delivery', long)).toBe(3_600_000);
  });
});

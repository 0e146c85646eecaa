/** The backoff type of delivery jobs (set by MessageDeliveryProducer). */
export const DELIVERY_BACKOFF = 'delivery';
const BACKOFF_BASE_MS = 2_000;
const BACKOFF_MAX_MS = 3_600_000;

/**
 * Exponential from 2 s, but never sooner than the provider asked (`Retry-After`,
 * `estimated_time_to_regain_access`), at most an hour.
 */
export function deliveryBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  const exponential = BACKOFF_BASE_MS * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exponential * (0.8 + Math.random() * 0.2);
  const asked = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  const wait = Math.max(jittered, typeof asked === 'number' ? asked : 0);
  return Math.round(Math.min(wait, BACKOFF_MAX_MS));
}

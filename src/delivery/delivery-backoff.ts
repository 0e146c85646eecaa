/** The backoff type of delivery jobs (set by MessageDeliveryProducer). */
export const DELIVERY_BACKOFF = 'delivery';
const BACKOFF_BASE_MS = 2_000;
/** A provider back from an outage is tried again within 5 minutes. */
const BACKOFF_STEP_MAX_MS = 300_000;
const BACKOFF_MAX_MS = 3_600_000;
/**
 * Attempts of a delivery job: with these waits they span a provider outage of about an hour
 * (50-63 minutes with the jitter) before the reply is failed for good.
 */
export const DELIVERY_ATTEMPTS = 20;

/**
 * Exponential from 2 s up to 5 minutes, but never sooner than the provider asked (`Retry-After`,
 * `estimated_time_to_regain_access`), at most an hour.
 */
export function deliveryBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  const exponential = Math.min(
    BACKOFF_BASE_MS * 2 ** Math.max(0, attemptsMade - 1),
    BACKOFF_STEP_MAX_MS,
  );
  const jittered = exponential * (0.8 + Math.random() * 0.2);
  const asked = (error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  const wait = Math.max(jittered, typeof asked === 'number' ? asked : 0);
  return Math.round(Math.min(wait, BACKOFF_MAX_MS));
}

import { Backoffs, type BackoffOptions, type MinimalJob } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES, QueueName } from 'src/queue/queue.constants';

describe('queue retry backoff', () => {
  // Delivery jobs are added with a backoff of their own (deliveryBackoff, jittered too).
  const retried = QUEUE_NAMES.filter(
    (name) => (DEFAULT_JOB_OPTIONS[name].attempts ?? 1) > 1 && name !== QueueName.MessageDelivery,
  );
  it.each(retried)(
    '%s: retries of jobs failed together are spread over 70-100% of the exponential step',
    (name) => {
      const backoff = Backoffs.normalize(DEFAULT_JOB_OPTIONS[name].backoff ?? 0) as BackoffOptions;
      // The third attempt waits four times the first delay, less the jitter.
      const waits = Array.from({ length: 200 }, () =>
        Number(Backoffs.calculate(backoff, 3, new Error('outage'), {} as MinimalJob)),
      );
      const step = (backoff.delay ?? 0) * 4;
      expect(step).toBeGreaterThan(0);
      expect(Math.max(...waits)).toBeLessThanOrEqual(step);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(Math.floor(step * 0.7));
      expect(new Set(waits).size).toBeGreaterThan(10);
    },
  );
});

import type { Queue, RetryOptions } from 'bullmq';

/**
 * A job retried after it failed for good starts over with all its attempts: BullMQ otherwise
 * keeps the count, and the first error of the retry would fail it for good again.
 */
export const FRESH_ATTEMPTS: RetryOptions = { resetAttemptsMade: true, resetAttemptsStarted: true };

/**
 * For records whose job id is their own id and which the database says still need their job:
 * retries the jobs that failed for good (with all their attempts), and returns the records whose job is gone (to be added
 * again by their producer). Jobs waiting, delayed, active or completed are left alone.
 */
export async function retryFailedOrMissing<T extends { id: string }>(
  queue: Queue,
  rows: readonly T[],
): Promise<{ missing: T[]; retried: number }> {
  const missing: T[] = [];
  let retried = 0;
  // The states are asked all at once: one busy stretch for Redis instead of a round trip each.
  const states = await Promise.all(rows.map((row) => queue.getJobState(row.id)));
  for (const [index, row] of rows.entries()) {
    if (states[index] === 'unknown') missing.push(row);
    else if (states[index] === 'failed') {
      await (await queue.getJob(row.id))?.retry('failed', FRESH_ATTEMPTS);
      retried += 1;
    }
  }
  return { missing, retried };
}

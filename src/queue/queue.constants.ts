import type { DefaultJobOptions } from 'bullmq';
import { DELIVERY_ATTEMPTS } from 'src/delivery/delivery-backoff';

/** One queue per stage of the pipeline (INTERFACE §3.3), so each upstream gets its own concurrency. */
export const QueueName = {
  ProcessWebhook: 'process-webhook',
  AiResponse: 'ai-response',
  MessageDelivery: 'message-delivery',
  Cleanup: 'cleanup',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const QUEUE_NAMES: readonly QueueName[] = Object.values(QueueName);

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * Retries wait exponentially longer, each at a random 70-100% of its step, so that jobs failed
 * together by one outage do not all come back at the same moments.
 */
const JITTER = 0.3;

/** Completed jobs are kept briefly for dashboards; failed ones long enough to inspect and retry. */
const base: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000, jitter: JITTER },
  removeOnComplete: { age: HOUR, count: 1_000 },
  removeOnFail: { age: 7 * DAY, count: 5_000 },
};

export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  [QueueName.ProcessWebhook]: { ...base, attempts: 8 },
  // Retries of a model call are bounded inside the job; the job itself retries when PostgreSQL or
  // Redis is away, for minutes, so that an outage delays answers instead of losing them.
  [QueueName.AiResponse]: {
    ...base,
    attempts: 8,
    backoff: { type: 'exponential', delay: 2_000, jitter: JITTER },
  },
  // A provider outage of up to about an hour delays replies instead of failing them (the
  // producer sets the delivery backoff; see delivery-backoff).
  [QueueName.MessageDelivery]: {
    ...base,
    attempts: DELIVERY_ATTEMPTS,
    backoff: { type: 'exponential', delay: 2_000 },
  },
  [QueueName.Cleanup]: { ...base, attempts: 1, removeOnComplete: { count: 50 } },
};

/**
 * Locks of running jobs: a worker that dies leaves its jobs locked until the lock lapses, and a
 * stall check every `stalledInterval` hands them to another worker, so a crash delays those jobs
 * by at most ~10 s (BullMQ's 30 s + 30 s made it a minute; a reply is a customer waiting). The
 * lock is renewed every half `lockDuration`: an event loop blocked for over 2.5 s may lose it,
 * and the job then runs a second time, which its effects allow (each is idempotent). A job
 * survives a few crashes of its workers before it is failed.
 */
export const WORKER_LOCK_OPTIONS = {
  lockDuration: 5_000,
  stalledInterval: 5_000,
  maxStalledCount: 3,
} as const;

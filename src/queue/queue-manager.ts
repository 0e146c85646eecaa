import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { dropErrorsAfterClose } from 'src/queue/late-errors';
import { FRESH_ATTEMPTS } from 'src/queue/missing-jobs';
import { QUEUE_NAMES, QueueName } from 'src/queue/queue.constants';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  paused: number;
}

export interface QueueHealth {
  healthy: boolean;
  workers: number;
  waiting: number;
  oldestWaitingSeconds: number | null;
  /** Failed ÷ finished among jobs that finished in the last 15 minutes (null: none finished). */
  recentFailureRatio: number | null;
  problems: string[];
}

export interface FailedJob {
  id: string;
  name: string;
  data: unknown;
  failedReason: string;
  attemptsMade: number;
  finishedOn: string | null;
}

/** A queue with work waiting longer than this is stuck. */
const MAX_WAIT_SECONDS = 300;
const RECENT_MS = 15 * 60_000;
const WARN_EVERY_MS = 30_000;
const FAILURE_RATIO_LIMIT = 0.5;
/** Failed jobs one retry call puts back, and how many at a time. */
const RETRY_AT_MOST = 1_000;
const RETRY_CHUNK = 100;

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

/**
 * One place that knows every queue of the pipeline: counts, health, dead letters and trimming.
 * Names and default job options live in queue.constants; each stage's producer sits with its stage.
 */
@Injectable()
export class QueueManager {
  private readonly queues: Map<QueueName, Queue>;
  private readonly logger = new Logger(QueueManager.name);
  private lastWarning = 0;

  constructor(
    @InjectQueue(QueueName.ProcessWebhook) processWebhook: Queue,
    @InjectQueue(QueueName.AiResponse) aiResponse: Queue,
    @InjectQueue(QueueName.MessageDelivery) messageDelivery: Queue,
    @InjectQueue(QueueName.Cleanup) cleanup: Queue,
  ) {
    this.queues = new Map<QueueName, Queue>([
      [QueueName.ProcessWebhook, processWebhook],
      [QueueName.AiResponse, aiResponse],
      [QueueName.MessageDelivery, messageDelivery],
      [QueueName.Cleanup, cleanup],
    ]);
    // Redis outages surface through health, metrics and the callers' own errors; one warning
    // every 30 s is enough in the log.
    for (const [name, queue] of this.queues) {
      dropErrorsAfterClose(queue);
      queue.on('error', (error: Error) => {
        const now = Date.now();
        if (now - this.lastWarning < WARN_EVERY_MS) return;
        this.lastWarning = now;
        this.logger.warn({ queue: name, err: error.message }, 'queue connection error');
      });
    }
  }

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`unknown queue ${name}`);
    return queue;
  }

  all(): Array<[QueueName, Queue]> {
    return [...this.queues];
  }

  async counts(name: QueueName): Promise<QueueCounts> {
    const counts = await this.queue(name).getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'completed',
      'paused',
    );
    return {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
      paused: counts.paused ?? 0,
    };
  }

  async stats(): Promise<Record<QueueName, QueueCounts>> {
    const entries = await Promise.all(
      QUEUE_NAMES.map(async (name) => [name, await this.counts(name)] as const),
    );
    return Object.fromEntries(entries) as Record<QueueName, QueueCounts>;
  }

  async oldestWaitingSeconds(name: QueueName): Promise<number | null> {
    const [oldest] = await this.queue(name).getJobs(['wait'], 0, 0, true);
    return oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : null;
  }

  async health(name: QueueName): Promise<QueueHealth> {
    const queue = this.queue(name);
    const [workers, counts, oldest, recent] = await Promise.all([
      queue.getWorkersCount(),
      this.counts(name),
      this.oldestWaitingSeconds(name),
      this.recentFailureRatio(queue),
    ]);
    const problems: string[] = [];
    if (workers === 0) problems.push('no worker is connected');
    if (oldest !== null && oldest > MAX_WAIT_SECONDS) {
      problems.push(`a job has waited ${Math.round(oldest)} s`);
    }
    if (recent !== null && recent > FAILURE_RATIO_LIMIT) {
      problems.push(`${Math.round(recent * 100)}% of recent jobs failed`);
    }
    return {
      healthy: problems.length === 0,
      workers,
      waiting: counts.waiting,
      oldestWaitingSeconds: oldest === null ? null : Math.round(oldest),
      recentFailureRatio: recent === null ? null : Math.round(recent * 1000) / 1000,
      problems,
    };
  }

  async failed(name: QueueName, start = 0, limit = 50): Promise<FailedJob[]> {
    const jobs = await this.queue(name).getJobs(['failed'], start, start + limit - 1, false);
    return jobs
      .filter((job): job is Job => job !== undefined)
      .map((job) => ({
        id: String(job.id),
        name: job.name,
        data: job.data as unknown,
        failedReason: job.failedReason,
        attemptsMade: job.attemptsMade,
        finishedOn: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      }));
  }

  /**
   * Puts the queue's failed jobs (the oldest 1,000) back to wait, each with all its attempts
   * again; returns how many. BullMQ's bulk retry keeps the attempts made, so a job retried that
   * way would fail for good at its first error.
   */
  async retryFailed(name: QueueName): Promise<number> {
    const failed = await this.queue(name).getFailed(0, RETRY_AT_MOST - 1);
    let retried = 0;
    for (let start = 0; start < failed.length; start += RETRY_CHUNK) {
      const outcomes = await Promise.allSettled(
        failed.slice(start, start + RETRY_CHUNK).map((job) => job.retry('failed', FRESH_ATTEMPTS)),
      );
      // A job removed or retried meanwhile is not failed any more: nothing to do for it.
      retried += outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    }
    return retried;
  }

  /** Removes finished jobs older than the given ages; returns how many went. */
  async trim(completedAgeMs: number, failedAgeMs: number): Promise<number> {
    let removed = 0;
    for (const [, queue] of this.queues) {
      removed += (await queue.clean(completedAgeMs, 10_000, 'completed')).length;
      removed += (await queue.clean(failedAgeMs, 10_000, 'failed')).length;
    }
    return removed;
  }

  private async recentFailureRatio(queue: Queue): Promise<number | null> {
    const since = Date.now() - RECENT_MS;
    const [completed, failed] = await Promise.all([
      queue.getJobs(['completed'], 0, 199, false),
      queue.getJobs(['failed'], 0, 199, false),
    ]);
    const recent = (jobs: Array<Job | undefined>) =>
      jobs.filter((job) => (job?.finishedOn ?? 0) >= since).length;
    const done = recent(completed);
    const bad = recent(failed);
    return done + bad === 0 ? null : bad / (done + bad);
  }
}

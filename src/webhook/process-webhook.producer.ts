import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { withTimeout } from 'src/common/timeout';
import { MetricsService } from 'src/metrics/metrics.service';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { QueueName } from 'src/queue/queue.constants';
import { RedisService } from 'src/redis/redis.service';
import { WebhookBacklog } from 'src/webhook/webhook-backlog';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

/** How long an add may take before the outbox sweeper is left to do it. */
const ADD_TIMEOUT_MS = 2_000;
/** Warn about Redis being away at most this often. */
const WARN_EVERY_MS = 10_000;

export function processWebhookJob(
  source: WebhookSource,
  webhookEventId: string,
): { name: string; data: ProcessWebhookJob; opts: JobsOptions } {
  // The stored event's id is the job id: adding it twice (request + sweeper) queues it once.
  return { name: source, data: { webhookEventId }, opts: { jobId: webhookEventId } };
}

/**
 * Queues stored webhook events for processing, the adds of concurrent requests together. Never
 * fails the caller: the event is already durable and the sweeper queues whatever could not be
 * queued here. Past WEBHOOK_QUEUE_LIMIT, events are held for the outbox instead (WebhookBacklog).
 */
@Injectable()
export class ProcessWebhookProducer {
  private readonly logger = new Logger(ProcessWebhookProducer.name);
  private pending: Array<{ source: WebhookSource; id: string }> = [];
  private scheduled = false;
  private lastWarning = 0;

  constructor(
    @InjectQueue(QueueName.ProcessWebhook) private readonly queue: Queue<ProcessWebhookJob>,
    private readonly backlog: WebhookBacklog,
    private readonly metrics: MetricsService,
    private readonly redis: RedisService,
  ) {}

  enqueue(source: WebhookSource, webhookEventId: string): void {
    this.pending.push({ source, id: webhookEventId });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /**
   * Adds the jobs now, each with its own script call, sent together; rejects when Redis does not
   * take them all in time. Those it did take stay queued, and adding one again queues nothing (its
   * id). Not `addBulk`: that wraps the adds in a MULTI on a fresh ioredis pipeline, which copies
   * every BullMQ script onto itself: for groups of one to eight jobs it cost more of Node's CPU a
   * job than separate adds, and about the same of Redis's.
   */
  async add(events: Array<{ source: WebhookSource; id: string }>): Promise<void> {
    if (events.length === 0) return;
    this.backlog.added(events.length);
    const jobs = events.map((event) => processWebhookJob(event.source, event.id));
    await withTimeout(
      Promise.all(jobs.map((job) => this.queue.add(job.name, job.data, job.opts))),
      ADD_TIMEOUT_MS,
      'queue add',
    );
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (!this.redis.reachable()) {
      // Adds would fail, or wait in memory on a worker process's connections (which queue commands
      // while Redis is away). The outbox queues these events as soon as Redis is back
      // (OutboxSweeper, RedisService.onReachable).
      this.warn(new Error('Redis is not reachable'), this.pending.length);
      this.pending = [];
      return;
    }
    const room = this.backlog.room();
    const events = this.pending.slice(0, room);
    const held = this.pending.slice(events.length);
    this.pending = [];
    if (held.length > 0) this.hold(held);
    try {
      await this.add(events);
    } catch (error) {
      this.warn(error, events.length);
    }
  }

  private warn(error: unknown, events: number): void {
    const now = Date.now();
    if (now - this.lastWarning <= WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.logger.warn(
      { err: error, events },
      'could not queue stored webhook events; the outbox will',
    );
  }

  /** Left `received` for the outbox, which queues them as the workers make room. */
  private hold(events: Array<{ source: WebhookSource; id: string }>): void {
    for (const event of events) this.metrics.webhooksHeld.inc({ source: event.source });
    // Not recorded (Redis just went away): the outbox's periodic pass queues them.
    this.backlog.hold(events[0].id).catch(() => undefined);
  }
}

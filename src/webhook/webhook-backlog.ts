import { InjectQueue } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { withTimeout } from 'src/common/timeout';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { QueueName } from 'src/queue/queue.constants';
import { RedisService } from 'src/redis/redis.service';

/** How often each process reads the queue's depth and whether events are held. */
export const BACKLOG_READ_MS = 1_000;
/** A reading older than this is no reading: Redis is away, and adds fail over to the outbox anyway. */
const STALE_MS = 5_000;
const READ_TIMEOUT_MS = 1_000;

/** What the process knows of the `process-webhook` queue. */
interface Reading {
  /** Jobs waiting or delayed, plus those this process added since it read them. */
  queued: number;
  /** Where held events begin, when some are held (see WebhookBacklog). */
  heldFrom: string | null;
  at: number;
}

/**
 * Keeps the `process-webhook` queue at most WEBHOOK_QUEUE_LIMIT jobs deep, so that a flood of
 * webhooks that the workers cannot keep up with waits in PostgreSQL, where it is stored anyway,
 * and not in Redis's memory. Past the limit, stored events are *held*: acknowledged to Meta and
 * left `received`, and the outbox (OutboxSweeper.feed) queues them oldest first as the workers
 * make room. While any are held, new events are held too, so that they do not overtake older ones.
 *
 * Whether events are held is one Redis key, shared by every process: its value is the position
 * (an event id, or `receivedAt|id`) where the outbox goes on queueing them. Each process reads the
 * queue's depth and that key every BACKLOG_READ_MS; between readings it counts its own adds.
 */
@Injectable()
export class WebhookBacklog implements OnApplicationBootstrap, OnApplicationShutdown {
  private reading: Reading = { queued: 0, heldFrom: null, at: 0 };
  private timer?: NodeJS.Timeout;
  readonly limit: number;
  private readonly heldKey: string;

  constructor(
    @InjectQueue(QueueName.ProcessWebhook) private readonly queue: Queue<ProcessWebhookJob>,
    private readonly redis: RedisService,
    @Inject(operationsConfig.KEY) config: OperationsConfig,
  ) {
    this.limit = config.webhookQueueLimit;
    this.heldKey = redis.key('webhooks', 'held-from');
  }

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), BACKLOG_READ_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * How many events stored now may be queued, by the latest reading; the rest are to be held.
   * Unbounded while the reading is stale: the bound waits for the next reading, and nothing is
   * held on figures Redis no longer confirms.
   */
  room(): number {
    const { queued, heldFrom, at } = this.reading;
    if (Date.now() - at > STALE_MS) return Number.POSITIVE_INFINITY;
    return heldFrom === null ? Math.max(0, this.limit - queued) : 0;
  }

  /** Whether events are held, by the latest reading (false while Redis is away). */
  holding(): boolean {
    return Date.now() - this.reading.at <= STALE_MS && this.reading.heldFrom !== null;
  }

  /** Counts jobs this process added, until the next reading. */
  added(count: number): void {
    this.reading.queued += count;
  }

  /**
   * Holds stored events, `firstId` the oldest: the outbox will queue from it unless events are
   * held already (it then goes on from where it is).
   */
  async hold(firstId: string): Promise<void> {
    this.reading.heldFrom ??= firstId;
    await this.redis.client.set(this.heldKey, firstId, 'NX');
  }

  /** Fresh figures for the outbox: jobs queued, and where held events begin (null: none held). */
  async read(): Promise<{ queued: number; heldFrom: string | null }> {
    const keys = this.queue.keys;
    const answers = await withTimeout(
      this.redis.client
        .multi()
        .llen(keys.wait)
        .zcard(keys.prioritized)
        .zcard(keys.delayed)
        .get(this.heldKey)
        .exec(),
      READ_TIMEOUT_MS,
      'queue depth',
    );
    if (!answers) throw new Error('queue depth: the transaction was discarded');
    for (const [error] of answers) if (error) throw error;
    const [wait, prioritized, delayed, held] = answers.map(([, value]) => value);
    const reading = {
      queued: Number(wait) + Number(prioritized) + Number(delayed),
      heldFrom: typeof held === 'string' ? held : null,
    };
    this.reading = { ...reading, at: Date.now() };
    return reading;
  }

  /** The outbox has queued held events up to `position`: it goes on after it next time. */
  async heldUpTo(position: string): Promise<void> {
    await this.redis.client.set(this.heldKey, position, 'XX');
  }

  /** Every held event is queued: new events are queued as they come again. */
  async release(): Promise<void> {
    this.reading.heldFrom = null;
    await this.redis.client.del(this.heldKey);
  }

  private async refresh(): Promise<void> {
    // A failed reading leaves the last one to go stale.
    await this.read().catch(() => undefined);
  }
}

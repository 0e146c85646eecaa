import { InjectQueue } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { PeriodicPass } from 'src/common/periodic-pass';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { retryFailedOrMissing } from 'src/queue/missing-jobs';
import { QueueName } from 'src/queue/queue.constants';
import { RedisService } from 'src/redis/redis.service';
import { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

/**
 * Younger events are still being queued by the request that stored them; not so right after a
 * Redis outage, when those requests failed to (a job's id is its event's, so none is added twice).
 */
const MIN_AGE_MS = 5_000;
const BATCH = 500;
const IDLE = 0;

/**
 * The outbox: every OUTBOX_SWEEP_MS, stored webhook events that are neither processed nor failed
 * are queued again, so nothing acknowledged to Meta is lost to a Redis outage or a crash between
 * the commit and the queue add. A job that already exists is left alone, a failed one retried.
 * Redis reachable again after an outage gets a pass at once, over events of any age.
 */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxSweeper.name);
  private readonly periodic = new PeriodicPass(() => this.pass(), IDLE);
  private stopLooking?: () => void;
  /** The next pass takes events of any age: Redis is back from an outage. */
  private catchUp = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.ProcessWebhook) private readonly queue: Queue<ProcessWebhookJob>,
    private readonly producer: ProcessWebhookProducer,
    @Inject(operationsConfig.KEY) private readonly config: OperationsConfig,
    private readonly redis: RedisService,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.config.outboxSweepMs);
    this.stopLooking = this.redis.onReachable(() => {
      this.catchUp = true;
      void this.periodic.run();
    });
  }

  onApplicationShutdown(): void {
    this.stopLooking?.();
    this.periodic.stop();
  }

  /** One pass (none while another runs); returns how many events were queued or retried. */
  sweep(): Promise<number> {
    return this.periodic.run();
  }

  private async pass(): Promise<number> {
    const minAgeMs = this.catchUp ? 0 : MIN_AGE_MS;
    this.catchUp = false;
    try {
      const rows = await this.dataSource.query<Array<{ id: string; source: WebhookSource }>>(
        `SELECT id, source FROM webhook_events
          WHERE status = 'received' AND received_at < now() - make_interval(secs => $1)
          ORDER BY received_at LIMIT $2`,
        [minAgeMs / 1000, BATCH],
      );
      const { missing, retried } = await retryFailedOrMissing(this.queue, rows);
      await this.producer.add(missing);
      if (missing.length + retried > 0) {
        this.logger.log(
          { queued: missing.length, retried },
          'outbox: queued stored webhook events',
        );
      }
      return missing.length + retried;
    } catch (error) {
      // Redis may be back for one connection and not yet for the queue's: the next pass catches up.
      if (minAgeMs === 0) this.catchUp = true;
      this.logger.warn({ err: error }, 'outbox sweep failed; will try again');
      return IDLE;
    }
  }
}

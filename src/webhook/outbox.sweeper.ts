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
import { FIRST_PAGE, pageAfter } from 'src/common/keyset-page';
import { CATCH_UP_RETRIES_MS, PeriodicPass } from 'src/common/periodic-pass';
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
/** Pages a catch-up pass reads at most (events keep arriving meanwhile); later passes go on. */
const MAX_CATCH_UP_PAGES = 200;

/**
 * The outbox: every OUTBOX_SWEEP_MS, stored webhook events that are neither processed nor failed
 * are queued again, so nothing acknowledged to Meta is lost to a Redis outage or a crash between
 * the commit and the queue add. A job that already exists is left alone, a failed one retried.
 *
 * A pass reads one page of such events, and the next pass the page after it, back to the oldest
 * after the last: behind a backlog of events still waiting for their jobs, a page that always
 * began at the oldest would never reach an event whose job was lost. Redis reachable again after
 * an outage gets a pass at once, over events of any age and every page.
 */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxSweeper.name);
  private readonly periodic = new PeriodicPass(() => this.pass(), IDLE);
  private stopLooking?: () => void;
  /** The next pass takes events of any age, every page: Redis is back from an outage. */
  private catchUp = false;
  /** Where the next page starts. */
  private after = FIRST_PAGE;
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
      this.periodic.runSoon(() => this.catchUp, CATCH_UP_RETRIES_MS);
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
    const catchUp = this.catchUp;
    this.catchUp = false;
    try {
      if (catchUp) this.after = FIRST_PAGE;
      let queued = 0;
      let pages = 0;
      do {
        queued += await this.page(catchUp ? 0 : MIN_AGE_MS);
        pages += 1;
      } while (catchUp && this.after !== FIRST_PAGE && pages < MAX_CATCH_UP_PAGES);
      return queued;
    } catch (error) {
      // Redis may be back for one connection and not yet for the queue's: the next pass catches up.
      if (catchUp) this.catchUp = true;
      this.logger.warn({ err: error }, 'outbox sweep failed; will try again');
      return IDLE;
    }
  }

  private async page(minAgeMs: number): Promise<number> {
    const rows = await this.dataSource.query<
      Array<{ id: string; source: WebhookSource; at: string }>
    >(
      `SELECT id, source, received_at::text AS at FROM webhook_events
        WHERE status = 'received' AND received_at < now() - make_interval(secs => $1)
          AND (received_at, id) > ($3::timestamptz, $4::uuid)
        ORDER BY received_at, id LIMIT $2`,
      [minAgeMs / 1000, BATCH, this.after.at, this.after.id],
    );
    this.after = pageAfter(rows, BATCH);
    const { missing, retried } = await retryFailedOrMissing(this.queue, rows);
    await this.producer.add(missing);
    if (missing.length + retried > 0) {
      this.logger.log({ queued: missing.length, retried }, 'outbox: queued stored webhook events');
    }
    return missing.length + retried;
  }
}

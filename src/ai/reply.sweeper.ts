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
import { AiReplyScheduler } from 'src/ai/ai-reply.scheduler';
import { FIRST_PAGE, pageAfter } from 'src/common/keyset-page';
import { CATCH_UP_RETRIES_MS, PeriodicPass } from 'src/common/periodic-pass';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import type { MessageDeliveryJob } from 'src/queue/jobs';
import { retryFailedOrMissing } from 'src/queue/missing-jobs';
import { QueueName } from 'src/queue/queue.constants';
import { RedisDataLoss } from 'src/redis/redis-data-loss';
import { RedisService } from 'src/redis/redis.service';

/**
 * Past the debounce, how long a turn may take before its job is taken for lost: the model's
 * budget (27 s) and a holding reply, with room for a queue that is behind.
 */
const TURN_GRACE_MS = 45_000;
const BATCH = 500;
/** Replies are owed within Meta's 24-hour window only; older ones cannot be sent anyway. */
const WINDOW_HOURS = 24;

export interface SweepReport {
  replies: number;
  deliveries: number;
}

const IDLE: SweepReport = { replies: 0, deliveries: 0 };

/**
 * The durable side of the reply path, every OUTBOX_SWEEP_MS: a conversation still owed a reply
 * (`reply_owed_at`) well after its turn should have run gets an `ai-response` job again, and an
 * outbound message still `queued`/`unknown` whose `message-delivery` job is gone gets it back (a
 * job that failed for good while the message was undecided is retried). Jobs live in Redis and
 * can be lost with it; this puts back what PostgreSQL says is owed. When Redis has lost its data
 * (RedisDataLoss), no reply job survived it: every reply still owed is queued again at once,
 * without waiting out the turn's grace. A turn still running in a worker may then run twice; the
 * reply's store keeps it to one reply.
 */
@Injectable()
export class ReplySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReplySweeper.name);
  private readonly periodic = new PeriodicPass(() => this.pass(), IDLE);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly replies: AiReplyScheduler,
    private readonly delivery: MessageDeliveryProducer,
    private readonly dataLoss: RedisDataLoss,
    private readonly redis: RedisService,
    @InjectQueue(QueueName.MessageDelivery) private readonly deliveries: Queue<MessageDeliveryJob>,
    @Inject(operationsConfig.KEY) private readonly operations: OperationsConfig,
    @Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig,
  ) {}

  private stopLooking?: () => void;
  /** Redis lost its data and the replies owed are not all queued again yet. */
  private owedAtOnce = false;
  /** Where the next pass's page of undelivered messages starts. */
  private undeliveredAfter = FIRST_PAGE;
  /** Redis is back and no pass has run through since. */
  private catchUp = false;

  onApplicationBootstrap(): void {
    this.periodic.start(this.operations.outboxSweepMs);
    // A pass as soon as Redis is reachable, and again after each outage: the first sees the
    // marker, so a loss later is told; a later one finds out at once whether the data survived.
    // Redis may be back for one connection and not yet for the queues': a pass that fails then
    // is tried again within seconds.
    this.stopLooking = this.redis.onReachable(() => {
      this.catchUp = true;
      this.periodic.runSoon(() => this.catchUp, CATCH_UP_RETRIES_MS);
    });
  }

  onApplicationShutdown(): void {
    this.stopLooking?.();
    this.periodic.stop();
  }

  /** One pass (none while another runs); returns what was queued again. */
  sweep(): Promise<SweepReport> {
    return this.periodic.run();
  }

  private async pass(): Promise<SweepReport> {
    try {
      if (await this.dataLoss.check().catch(() => false)) {
        this.owedAtOnce = true;
        this.logger.warn('Redis lost its data: every reply still owed is queued again now');
      }
      // Told once, the loss holds until a pass has queued them all (a failed one tries again).
      const graceMs = this.owedAtOnce ? 0 : this.behaviour.aiDebounceMs + TURN_GRACE_MS;
      const lost = this.owedAtOnce;
      const replies = await this.owedReplies(graceMs);
      this.owedAtOnce = false;
      const report = { replies, deliveries: await this.undelivered(lost) };
      this.catchUp = false;
      if (report.replies + report.deliveries > 0) {
        this.logger.warn(report, 'queued again work whose jobs were lost');
      }
      return report;
    } catch (error) {
      this.logger.warn({ err: error }, 'reply sweep failed; will try again');
      return IDLE;
    }
  }

  /** Queues again the replies owed for longer than `graceMs`, page by page. */
  private async owedReplies(graceMs: number): Promise<number> {
    let queued = 0;
    let after = FIRST_PAGE;
    for (;;) {
      const rows = await this.dataSource.query<
        Array<{ id: string; merchant_id: string; reply_owed_at: Date; at: string }>
      >(
        `SELECT id, merchant_id, reply_owed_at, reply_owed_at::text AS at FROM conversations
          WHERE reply_owed_at IS NOT NULL
            AND reply_owed_at < now() - make_interval(secs => $1)
            AND reply_owed_at > now() - make_interval(hours => $2)
            AND (reply_owed_at, id) > ($4::timestamptz, $5::uuid)
          ORDER BY reply_owed_at, id LIMIT $3`,
        [graceMs / 1000, WINDOW_HOURS, BATCH, after.at, after.id],
      );
      for (const row of rows) {
        await this.replies.requeue(row.merchant_id, row.id, row.reply_owed_at);
      }
      queued += rows.length;
      after = pageAfter(rows, BATCH);
      if (after === FIRST_PAGE) return queued;
    }
  }

  /**
   * Undelivered messages whose job is gone get it back: every page when Redis lost its data (no
   * job survived), else one page per pass, each after where the last one stopped. Most of them
   * have their job (a merchant waiting to re-authorise keeps hundreds `queued` with theirs), and
   * a page that always began at the oldest would never reach the rest.
   */
  private async undelivered(everyPage: boolean): Promise<number> {
    if (everyPage) this.undeliveredAfter = FIRST_PAGE;
    let found = 0;
    do found += await this.undeliveredPage();
    while (everyPage && this.undeliveredAfter !== FIRST_PAGE);
    return found;
  }

  private async undeliveredPage(): Promise<number> {
    const rows = await this.dataSource.query<
      Array<{ id: string; merchant_id: string; at: string }>
    >(
      `SELECT id, merchant_id, created_at::text AS at FROM messages
        WHERE direction = 'out' AND delivery_status IN ('queued', 'unknown')
          AND created_at < now() - make_interval(secs => $1)
          AND created_at > now() - make_interval(hours => $2)
          AND (created_at, id) > ($4::timestamptz, $5::uuid)
        ORDER BY created_at, id LIMIT $3`,
      [
        TURN_GRACE_MS / 1000,
        WINDOW_HOURS,
        BATCH,
        this.undeliveredAfter.at,
        this.undeliveredAfter.id,
      ],
    );
    this.undeliveredAfter = pageAfter(rows, BATCH);
    const { missing, retried } = await retryFailedOrMissing(this.deliveries, rows);
    for (const row of missing) await this.delivery.enqueue(row.merchant_id, row.id);
    return missing.length + retried;
  }
}

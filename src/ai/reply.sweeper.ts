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
import { PeriodicPass } from 'src/common/periodic-pass';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import type { MessageDeliveryJob } from 'src/queue/jobs';
import { retryFailedOrMissing } from 'src/queue/missing-jobs';
import { QueueName } from 'src/queue/queue.constants';

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
 * can be lost with it; this puts back what PostgreSQL says is owed.
 */
@Injectable()
export class ReplySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReplySweeper.name);
  private readonly periodic = new PeriodicPass(() => this.pass(), IDLE);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly replies: AiReplyScheduler,
    private readonly delivery: MessageDeliveryProducer,
    @InjectQueue(QueueName.MessageDelivery) private readonly deliveries: Queue<MessageDeliveryJob>,
    @Inject(operationsConfig.KEY) private readonly operations: OperationsConfig,
    @Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.operations.outboxSweepMs);
  }

  onApplicationShutdown(): void {
    this.periodic.stop();
  }

  /** One pass (none while another runs); returns what was queued again. */
  sweep(): Promise<SweepReport> {
    return this.periodic.run();
  }

  private async pass(): Promise<SweepReport> {
    try {
      const report = { replies: await this.owedReplies(), deliveries: await this.undelivered() };
      if (report.replies + report.deliveries > 0) {
        this.logger.warn(report, 'queued again work whose jobs were lost');
      }
      return report;
    } catch (error) {
      this.logger.warn({ err: error }, 'reply sweep failed; will try again');
      return IDLE;
    }
  }

  private async owedReplies(): Promise<number> {
    const rows = await this.dataSource.query<
      Array<{ id: string; merchant_id: string; reply_owed_at: Date }>
    >(
      `SELECT id, merchant_id, reply_owed_at FROM conversations
        WHERE reply_owed_at IS NOT NULL
          AND reply_owed_at < now() - make_interval(secs => $1)
          AND reply_owed_at > now() - make_interval(hours => $2)
        ORDER BY reply_owed_at LIMIT $3`,
      [(this.behaviour.aiDebounceMs + TURN_GRACE_MS) / 1000, WINDOW_HOURS, BATCH],
    );
    for (const row of rows) {
      await this.replies.requeue(row.merchant_id, row.id, row.reply_owed_at);
    }
    return rows.length;
  }

  private async undelivered(): Promise<number> {
    const rows = await this.dataSource.query<Array<{ id: string; merchant_id: string }>>(
      `SELECT id, merchant_id FROM messages
        WHERE direction = 'out' AND delivery_status IN ('queued', 'unknown')
          AND created_at < now() - make_interval(secs => $1)
          AND created_at > now() - make_interval(hours => $2)
        ORDER BY created_at LIMIT $3`,
      [TURN_GRACE_MS / 1000, WINDOW_HOURS, BATCH],
    );
    const { missing, retried } = await retryFailedOrMissing(this.deliveries, rows);
    for (const row of missing) await this.delivery.enqueue(row.merchant_id, row.id);
    return missing.length + retried;
  }
}

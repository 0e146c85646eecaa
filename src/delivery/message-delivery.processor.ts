import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job, type Queue } from 'bullmq';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { isTransientStorageError } from 'src/database/transient-errors';
import { deliveryBackoff } from 'src/delivery/delivery-backoff';
import {
  MESSAGE_NOT_FOUND,
  MessageDeliveryService,
  type DeliveryOutcome,
} from 'src/delivery/message-delivery.service';
import type { AiResponseJob, MessageDeliveryJob } from 'src/queue/jobs';
import { QueueName, WORKER_LOCK_OPTIONS } from 'src/queue/queue.constants';

/** Consumes `message-delivery`: one outbound message per job (job id = message id). */
@Processor(QueueName.MessageDelivery, {
  concurrency: 20,
  ...WORKER_LOCK_OPTIONS,
  settings: { backoffStrategy: deliveryBackoff },
})
export class MessageDeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(MessageDeliveryProcessor.name);

  constructor(
    private readonly delivery: MessageDeliveryService,
    @Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig,
    @InjectQueue(QueueName.AiResponse) private readonly replies: Queue<AiResponseJob>,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.behaviour.deliveryConcurrency;
  }

  async process(job: Job<MessageDeliveryJob>, token?: string): Promise<DeliveryOutcome> {
    const { merchantId, messageId, conversationId } = job.data;
    const outcome = await this.delivery.deliver(merchantId, messageId, {
      later: async (ms: number, why: string): Promise<never> => {
        await job.moveToDelayed(Date.now() + Math.max(0, Math.round(ms)), token);
        throw new DelayedError(why);
      },
    });
    if (outcome.outcome === 'skipped' && outcome.reason === MESSAGE_NOT_FOUND && conversationId) {
      // A reply its own job handed over is gone: its store was lost (see MessageDeliveryJob).
      // The conversation's turn is read again now; if nothing is left to answer, nothing is sent.
      await this.replies.add(
        'reply',
        { merchantId, conversationId },
        { jobId: `lost-${messageId}` },
      );
      this.logger.warn(
        { merchantId, messageId, conversationId },
        'reply to deliver not found; its conversation is read again',
      );
    }
    return outcome;
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<MessageDeliveryJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    // A permanent failure is already recorded on the message.
    if (error.name === 'UnrecoverableError') return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const context = {
      jobId: job.id,
      merchantId: job.data.merchantId,
      messageId: job.data.messageId,
      err: error,
    };
    // Storage away (PostgreSQL or Redis) says nothing of the reply: it stays owed, and the reply
    // sweep retries its job once the storage is back.
    if (isTransientStorageError(error)) {
      this.logger.warn(
        context,
        'delivery failed while storage was away; the reply sweep retries it',
      );
      return;
    }
    this.logger.warn(context, 'delivery gave up');
    await this.delivery.giveUp(job.data.messageId, error).catch(() => undefined);
  }
}

import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { DELIVERY_BACKOFF } from 'src/delivery/delivery-backoff';
import type { MessageDeliveryJob } from 'src/queue/jobs';
import { QueueName } from 'src/queue/queue.constants';

/** Hands stored outbound messages to delivery; the message id is the job id, so each goes once. */
@Injectable()
export class MessageDeliveryProducer {
  constructor(
    @InjectQueue(QueueName.MessageDelivery) private readonly queue: Queue<MessageDeliveryJob>,
  ) {}

  /**
   * Queues the message's delivery, `delayMs` from now (once: a second call finds the job waiting).
   * A job of the message that has already run (completed, or failed for good) would take the call
   * for a duplicate, yet the caller says the message needs a run: that job makes way for a new
   * one. (Two runs of one message can meet: one that found nothing left to send completes while
   * the other's send fails and hands the message back.) `conversationId`: see MessageDeliveryJob.
   */
  async enqueue(
    merchantId: string,
    messageId: string,
    delayMs = 0,
    conversationId?: string,
  ): Promise<void> {
    const add = () =>
      this.queue.add(
        'deliver',
        { merchantId, messageId, ...(conversationId ? { conversationId } : {}) },
        {
          jobId: messageId,
          backoff: { type: DELIVERY_BACKOFF },
          ...(delayMs > 0 ? { delay: Math.round(delayMs) } : {}),
        },
      );
    const job = await add();
    const state = await job.getState();
    if (state !== 'completed' && state !== 'failed') return;
    // Removed or re-run meanwhile by another call: the add below then finds it, or adds it.
    await job.remove().catch(() => undefined);
    await add();
  }
}

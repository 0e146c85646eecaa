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

  /** Queues the message's delivery, `delayMs` from now (once: a second call finds the job). */
  async enqueue(merchantId: string, messageId: string, delayMs = 0): Promise<void> {
    await this.queue.add(
      'deliver',
      { merchantId, messageId },
      {
        jobId: messageId,
        backoff: { type: DELIVERY_BACKOFF },
        ...(delayMs > 0 ? { delay: Math.round(delayMs) } : {}),
      },
    );
  }
}

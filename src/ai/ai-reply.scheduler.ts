import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import type { AiResponseJob } from 'src/queue/jobs';
import { retryFailedOrMissing } from 'src/queue/missing-jobs';
import { QueueName } from 'src/queue/queue.constants';

/** The deduplication id of a conversation's pending reply. */
export function replyDeduplicationId(conversationId: string): string {
  return `reply:${conversationId}`;
}

/**
 * Queues one `ai-response` job per burst of customer messages: each message within AI_DEBOUNCE_MS
 * of the previous one replaces the pending job and restarts its wait (BullMQ's debounce mode), so
 * the burst is answered once, together. The job decides for itself what is left to answer.
 */
@Injectable()
export class AiReplyScheduler {
  constructor(
    @InjectQueue(QueueName.AiResponse) private readonly queue: Queue<AiResponseJob>,
    @Inject(behaviourConfig.KEY) private readonly config: BehaviourConfig,
  ) {}

  async schedule(merchantId: string, conversationId: string): Promise<void> {
    const delay = this.config.aiDebounceMs;
    const data: AiResponseJob = { merchantId, conversationId };
    if (delay === 0) {
      await this.queue.add('reply', data);
      return;
    }
    await this.queue.add('reply', data, {
      delay,
      deduplication: {
        id: replyDeduplicationId(conversationId),
        ttl: delay,
        extend: true,
        replace: true,
      },
    });
  }

  /** Schedules the replies of many conversations, all at once. */
  async scheduleMany(replies: readonly AiResponseJob[]): Promise<void> {
    await Promise.all(
      replies.map((reply) => this.schedule(reply.merchantId, reply.conversationId)),
    );
  }

  /**
   * Queues the reply a conversation has been owed since `owedAt` (its job was lost): once per
   * owed moment, however often it is asked, and without a wait. A job of that moment that failed
   * for good keeps its id for days, so adding it again would do nothing: it is retried instead.
   */
  async requeue(merchantId: string, conversationId: string, owedAt: Date): Promise<void> {
    const jobId = `owed-${conversationId}-${owedAt.getTime()}`;
    const { missing } = await retryFailedOrMissing(this.queue, [{ id: jobId }]);
    if (missing.length === 0) return;
    await this.queue.add('reply', { merchantId, conversationId }, { jobId });
  }

  /** Drops the conversation's pending reply, if it has not started. */
  async cancel(conversationId: string): Promise<boolean> {
    const jobId = await this.queue.getDeduplicationJobId(replyDeduplicationId(conversationId));
    if (!jobId) return false;
    const job = await this.queue.getJob(jobId);
    if (!job || !(await job.isDelayed())) return false;
    await job.remove();
    await this.queue.removeDeduplicationKey(replyDeduplicationId(conversationId));
    return true;
  }
}

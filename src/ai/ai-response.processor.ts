import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import {
  ConversationAIOrchestrator,
  type RespondOutcome,
} from 'src/ai/conversation-ai.orchestrator';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import type { AiResponseJob } from 'src/queue/jobs';
import { QueueName, WORKER_LOCK_OPTIONS } from 'src/queue/queue.constants';

/**
 * Consumes `ai-response`: one conversation turn per job, AI_CONCURRENCY at once. A turn holds
 * no database connection while the model answers, so the setting is bounded by the model
 * provider's rate limits, not by DATABASE_POOL_SIZE.
 */
// The concurrency here holds only until bootstrap sets AI_CONCURRENCY (a decorator sees no config).
@Processor(QueueName.AiResponse, { concurrency: 10, ...WORKER_LOCK_OPTIONS })
export class AiResponseProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(AiResponseProcessor.name);

  constructor(
    private readonly orchestrator: ConversationAIOrchestrator,
    @Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.behaviour.aiConcurrency;
  }

  async process(job: Job<AiResponseJob>): Promise<RespondOutcome> {
    return this.orchestrator.respond(job.data.merchantId, job.data.conversationId);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<AiResponseJob> | undefined, error: Error): void {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn(
      {
        jobId: job.id,
        conversationId: job.data.conversationId,
        attempt: job.attemptsMade,
        final,
        err: error.message,
      },
      final ? 'reply failed for good' : 'reply failed; will retry',
    );
  }
}

import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import {
  ConversationAIOrchestrator,
  type RespondOutcome,
} from 'src/ai/conversation-ai.orchestrator';
import type { AiResponseJob } from 'src/queue/jobs';
import { QueueName } from 'src/queue/queue.constants';

/** Consumes `ai-response`: one conversation turn per job. */
@Processor(QueueName.AiResponse, { concurrency: 10 })
export class AiResponseProcessor extends WorkerHost {
  constructor(private readonly orchestrator: ConversationAIOrchestrator) {
    super();
  }

  async process(job: Job<AiResponseJob>): Promise<RespondOutcome> {
    return this.orchestrator.respond(job.data.merchantId, job.data.conversationId);
  }
}

import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { QueueName, WORKER_LOCK_OPTIONS } from 'src/queue/queue.constants';
import {
  WebhookIngestionService,
  type ProcessOutcome,
} from 'src/webhook/webhook-ingestion.service';

/** Consumes `process-webhook`: one stored webhook body per job. */
@Processor(QueueName.ProcessWebhook, { concurrency: 8, ...WORKER_LOCK_OPTIONS })
export class ProcessWebhookProcessor extends WorkerHost {
  private readonly logger = new Logger(ProcessWebhookProcessor.name);

  constructor(private readonly ingestion: WebhookIngestionService) {
    super();
  }

  async process(job: Job<ProcessWebhookJob>): Promise<ProcessOutcome> {
    return this.ingestion.process(job.data.webhookEventId);
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<ProcessWebhookJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    this.logger.warn(
      {
        jobId: job.id,
        webhookEventId: job.data.webhookEventId,
        attempt: job.attemptsMade,
        final,
        err: error,
      },
      final ? 'webhook processing failed for good' : 'webhook processing failed; will retry',
    );
    if (final) {
      await this.ingestion
        .markFailed(job.data.webhookEventId, error.message)
        .catch(() => undefined);
    }
  }
}

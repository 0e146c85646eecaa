import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { MicroBatcher } from 'src/common/micro-batcher';
import { isTransientStorageError } from 'src/database/transient-errors';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { QueueName, WORKER_LOCK_OPTIONS } from 'src/queue/queue.constants';
import {
  WebhookIngestionService,
  type ProcessOutcome,
} from 'src/webhook/webhook-ingestion.service';

/** Jobs taken at once; run as up to CONCURRENCY / BATCH_SIZE transactions at a time. */
const CONCURRENCY = 32;
const BATCH_SIZE = 8;

/**
 * Consumes `process-webhook`: one stored webhook body per job. The jobs running at one moment are
 * processed together (WebhookIngestionService.processMany), each still finishing or failing on
 * its own.
 */
@Processor(QueueName.ProcessWebhook, { concurrency: CONCURRENCY, ...WORKER_LOCK_OPTIONS })
export class ProcessWebhookProcessor extends WorkerHost {
  private readonly logger = new Logger(ProcessWebhookProcessor.name);
  private readonly batcher: MicroBatcher<string, ProcessOutcome>;

  constructor(private readonly ingestion: WebhookIngestionService) {
    super();
    this.batcher = new MicroBatcher((ids) => this.ingestion.processMany(ids), {
      maxSize: BATCH_SIZE,
      parallel: CONCURRENCY / BATCH_SIZE,
    });
  }

  async process(job: Job<ProcessWebhookJob>): Promise<ProcessOutcome> {
    return this.batcher.submit(job.data.webhookEventId);
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<ProcessWebhookJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    // Storage away (PostgreSQL or Redis) says nothing of the event: it stays `received`, and
    // the outbox sweep retries its job once the storage is back.
    const away = isTransientStorageError(error);
    this.logger.warn(
      {
        jobId: job.id,
        webhookEventId: job.data.webhookEventId,
        attempt: job.attemptsMade,
        final,
        err: error,
      },
      !final
        ? 'webhook processing failed; will retry'
        : away
          ? 'webhook processing failed while storage was away; the outbox sweep retries it'
          : 'webhook processing failed for good',
    );
    if (final && !away) {
      await this.ingestion
        .markFailed(job.data.webhookEventId, error.message)
        .catch(() => undefined);
    }
  }
}

import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import { CleanupService, type CleanupReport } from 'src/operations/cleanup.service';
import { withTimeout } from 'src/common/timeout';
import { QueueName, WORKER_LOCK_OPTIONS } from 'src/queue/queue.constants';

const RETRY_MS = 30_000;

export const CLEANUP_SCHEDULER_ID = 'cleanup-every-interval';

/** Consumes `cleanup`, and keeps its repeating schedule (one, shared by every worker). */
@Processor(QueueName.Cleanup, { concurrency: 1, ...WORKER_LOCK_OPTIONS })
export class CleanupProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(CleanupProcessor.name);
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly cleanup: CleanupService,
    @InjectQueue(QueueName.Cleanup) private readonly queue: Queue,
    @Inject(operationsConfig.KEY) private readonly config: OperationsConfig,
  ) {
    super();
  }

  /** Schedules in the background: a worker starting while Redis is away still starts. */
  onApplicationBootstrap(): void {
    void this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private async schedule(): Promise<void> {
    try {
      await withTimeout(
        this.queue.upsertJobScheduler(
          CLEANUP_SCHEDULER_ID,
          { every: this.config.cleanupIntervalMinutes * 60_000 },
          { name: 'cleanup', data: {} },
        ),
        5_000,
        'cleanup schedule',
      );
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn({ err: error }, 'could not schedule the cleanup job yet; will try again');
      this.retry = setTimeout(() => void this.schedule(), RETRY_MS);
      this.retry.unref();
    }
  }

  process(): Promise<CleanupReport> {
    return this.cleanup.run();
  }
}

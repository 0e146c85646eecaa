import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import { CleanupService, type CleanupReport } from 'src/operations/cleanup.service';
import { QueueName } from 'src/queue/queue.constants';

export const CLEANUP_SCHEDULER_ID = 'cleanup-every-interval';

/** Consumes `cleanup`, and keeps its repeating schedule (one, shared by every worker). */
@Processor(QueueName.Cleanup, { concurrency: 1 })
export class CleanupProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly cleanup: CleanupService,
    @InjectQueue(QueueName.Cleanup) private readonly queue: Queue,
    @Inject(operationsConfig.KEY) private readonly config: OperationsConfig,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      CLEANUP_SCHEDULER_ID,
      { every: this.config.cleanupIntervalMinutes * 60_000 },
      { name: 'cleanup', data: {} },
    );
  }

  process(): Promise<CleanupReport> {
    return this.cleanup.run();
  }
}

import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { MetricsService } from 'src/metrics/metrics.service';
import { dropErrorsAfterClose } from 'src/queue/late-errors';

const WARN_EVERY_MS = 30_000;

/**
 * Counts every job this process's workers finish, by queue and outcome, and every job whose
 * worker died or stopped renewing its lock (found by this process's stall check, outcome
 * `stalled`: it runs again); reports worker connection errors (at most every 30 s) instead of
 * letting them reach the console.
 */
@Injectable()
export class JobMetrics implements OnApplicationBootstrap {
  private readonly logger = new Logger('QueueWorkers');
  private lastWarning = 0;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as unknown;
      if (!(instance instanceof WorkerHost)) continue;
      const worker: Worker = (instance as WorkerHost<Worker>).worker;
      dropErrorsAfterClose(worker);
      worker.on('completed', () =>
        this.metrics.jobs.inc({ queue: worker.name, outcome: 'completed' }),
      );
      worker.on('failed', () => this.metrics.jobs.inc({ queue: worker.name, outcome: 'failed' }));
      worker.on('stalled', (jobId) => {
        this.metrics.jobs.inc({ queue: worker.name, outcome: 'stalled' });
        this.logger.warn(
          { queue: worker.name, jobId },
          'a job whose worker stopped renewing its lock (a crash, or a blocked event loop) runs again',
        );
      });
      worker.on('error', (error) => {
        const now = Date.now();
        if (now - this.lastWarning < WARN_EVERY_MS) return;
        this.lastWarning = now;
        this.logger.warn(
          { queue: worker.name, err: error.message },
          'queue worker connection error',
        );
      });
    }
  }
}

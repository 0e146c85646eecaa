import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { MetricsService } from 'src/metrics/metrics.service';

/** Counts every job this process's workers finish, by queue and outcome. */
@Injectable()
export class JobMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as unknown;
      if (!(instance instanceof WorkerHost)) continue;
      const worker: Worker = (instance as WorkerHost<Worker>).worker;
      worker.on('completed', () =>
        this.metrics.jobs.inc({ queue: worker.name, outcome: 'completed' }),
      );
      worker.on('failed', () => this.metrics.jobs.inc({ queue: worker.name, outcome: 'failed' }));
    }
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { withTimeout } from 'src/common/timeout';
import { MetricsService } from 'src/metrics/metrics.service';
import { QueueManager, type QueueCounts } from 'src/queue/queue-manager';

/**
 * A scrape does not wait for Redis longer than this: a worker process's queue connections wait out
 * an outage (see QueueModule), and the scrape answers without the queue figures meanwhile.
 */
const READ_TIMEOUT_MS = 2_000;

/** Queue depth and the age of the oldest waiting job, read from Redis when Prometheus scrapes. */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queues: QueueManager,
  ) {}

  onModuleInit(): void {
    const queues = this.queues;
    new Gauge({
      name: 'radd_queue_jobs',
      help: 'Jobs in each queue, by state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const [name] of queues.all()) {
          const counts: QueueCounts | null = await withTimeout(
            queues.counts(name),
            READ_TIMEOUT_MS,
          ).catch(() => null);
          if (!counts) continue;
          for (const [state, count] of Object.entries(counts) as Array<[string, number]>) {
            this.set({ queue: name, state }, count);
          }
        }
      },
    });
    new Gauge({
      name: 'radd_queue_oldest_waiting_seconds',
      help: 'Age of the oldest waiting job in each queue (0 when none waits)',
      labelNames: ['queue'] as const,
      registers: [this.metrics.registry],
      async collect() {
        for (const [name] of queues.all()) {
          const age = await withTimeout(queues.oldestWaitingSeconds(name), READ_TIMEOUT_MS).catch(
            () => null,
          );
          this.set({ queue: name }, age ?? 0);
        }
      },
    });
  }
}

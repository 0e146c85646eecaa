import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { withTimeout } from 'src/common/timeout';
import { MetricsService } from 'src/metrics/metrics.service';

/** A scrape does not wait for PostgreSQL longer than this; the figures are left out meanwhile. */
const READ_TIMEOUT_MS = 2_000;

/**
 * What PostgreSQL says is still owed, each from its partial index: webhooks stored and not yet
 * processed, conversations owed a reply, replies not yet sent (or whose send's outcome is being
 * reconciled), these two within Meta's 24-hour window. They stay readable while Redis is away
 * (the queue gauges do not), and an oldest age that keeps growing is work the sweepers are not
 * getting back to: the signal of a message about to be lost. The same for every process.
 */
const OWED_WORK = `
  SELECT 'webhook' AS work, count(*)::int AS n,
         COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0)::float AS oldest
    FROM webhook_events WHERE status = 'received'
  UNION ALL
  SELECT 'reply', count(*)::int, COALESCE(EXTRACT(EPOCH FROM now() - min(reply_owed_at)), 0)::float
    FROM conversations
   WHERE reply_owed_at IS NOT NULL AND reply_owed_at > now() - interval '24 hours'
  UNION ALL
  SELECT 'delivery', count(*)::int, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float
    FROM messages
   WHERE direction = 'out' AND delivery_status IN ('queued', 'unknown')
     AND created_at > now() - interval '24 hours'`;

interface OwedRow {
  work: string;
  n: number;
  oldest: number;
}

@Injectable()
export class OwedWorkMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    // The registry collects its gauges at once: both of a scrape share one read.
    let reading: Promise<OwedRow[]> | undefined;
    const read = (): Promise<OwedRow[]> =>
      (reading ??= withTimeout(this.owedWork(), READ_TIMEOUT_MS)
        .catch(() => [])
        .finally(() => (reading = undefined)));
    const gauge = (name: string, help: string, value: (row: OwedRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['work'] as const,
        registers: [this.metrics.registry],
        async collect() {
          const rows = await read();
          this.reset();
          for (const row of rows) this.set({ work: row.work }, value(row));
        },
      });
    gauge(
      'radd_owed_work',
      'Work PostgreSQL says is owed: webhooks not processed, conversations owed a reply, replies not sent',
      (row) => row.n,
    );
    gauge(
      'radd_owed_work_oldest_seconds',
      'Age of the oldest owed item of each kind (0 when none)',
      (row) => row.oldest,
    );
  }

  /** The counts, cancelled by PostgreSQL itself past READ_TIMEOUT_MS (not left running on a slow day). */
  private owedWork(): Promise<OwedRow[]> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL statement_timeout = ${READ_TIMEOUT_MS}`);
      return manager.query<OwedRow[]>(OWED_WORK);
    });
  }
}

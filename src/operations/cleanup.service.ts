import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import { rowsOf } from 'src/database/sql';
import { QueueManager } from 'src/queue/queue-manager';

const BATCH = 5_000;
const HOUR_MS = 3_600_000;

export interface CleanupReport {
  webhookEvents: number;
  jobs: number;
}

/**
 * Retention: raw webhook events (and their event ledger) past WEBHOOK_RETENTION_DAYS go, except
 * ones never processed; finished jobs are trimmed; messages, customers and conversations stay.
 */
@Injectable()
export class CleanupService {
  private readonly logger = new Logger(CleanupService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: QueueManager,
    @Inject(operationsConfig.KEY) private readonly config: OperationsConfig,
  ) {}

  async run(): Promise<CleanupReport> {
    let webhookEvents = 0;
    for (;;) {
      const deleted = await rowsOf<{ id: string }>(
        this.dataSource,
        `DELETE FROM webhook_events WHERE id IN (
           SELECT id FROM webhook_events
            WHERE received_at < now() - make_interval(days => $1) AND status <> 'received'
            LIMIT $2)
         RETURNING id`,
        [this.config.webhookRetentionDays, BATCH],
      );
      webhookEvents += deleted.length;
      if (deleted.length < BATCH) break;
    }
    const jobs = await this.queues.trim(HOUR_MS, 7 * 24 * HOUR_MS);
    const report = { webhookEvents, jobs };
    this.logger.log({ ...report, retentionDays: this.config.webhookRetentionDays }, 'cleanup done');
    return report;
  }
}

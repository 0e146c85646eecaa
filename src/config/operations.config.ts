import { registerAs } from '@nestjs/config';
import { readEnvironment } from 'src/config/env';

export const operationsConfig = registerAs('operations', () => {
  const env = readEnvironment();
  return {
    outboxSweepMs: env.OUTBOX_SWEEP_MS,
    webhookQueueLimit: env.WEBHOOK_QUEUE_LIMIT,
    webhookRetentionDays: env.WEBHOOK_RETENTION_DAYS,
    cleanupIntervalMinutes: env.CLEANUP_INTERVAL_MINUTES,
  };
});
export type OperationsConfig = ReturnType<typeof operationsConfig>;

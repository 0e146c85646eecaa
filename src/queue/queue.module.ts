import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { redisConfig, type RedisConfig } from 'src/config/redis.config';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES } from 'src/queue/queue.constants';
import { redisConnectionOptions } from 'src/queue/redis-connection';
import { JobMetrics } from 'src/queue/job-metrics';
import { QueueManager } from 'src/queue/queue-manager';
import { WorkerDrain } from 'src/queue/worker-drain';

/**
 * Producers fail fast while Redis is away (no offline queue): a job that cannot be added now is
 * added later by whoever owns the durable record of it (the webhook outbox sweeper, for one).
 */
const queues = BullModule.registerQueueAsync(
  ...QUEUE_NAMES.map((name) => ({
    name,
    inject: [redisConfig.KEY],
    useFactory: (config: RedisConfig) => ({
      defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
      connection: { ...redisConnectionOptions(config.url), enableOfflineQueue: false },
    }),
  })),
);

/** The BullMQ connection (REDIS_URL, REDIS_PREFIX) and every queue of the pipeline. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [redisConfig.KEY],
      useFactory: (config: RedisConfig) => ({
        connection: redisConnectionOptions(config.url),
        prefix: config.prefix,
      }),
    }),
    queues,
    DiscoveryModule,
  ],
  providers: [WorkerDrain, JobMetrics, QueueManager],
  exports: [queues, QueueManager],
})
export class QueueModule {}

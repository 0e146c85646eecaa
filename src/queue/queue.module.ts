import { BullModule } from '@nestjs/bullmq';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { perRole } from 'src/common/per-role';
import type { RoleParts } from 'src/config/app.config';
import { redisConfig, type RedisConfig } from 'src/config/redis.config';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES } from 'src/queue/queue.constants';
import { redisConnectionOptions } from 'src/queue/redis-connection';
import { JobMetrics } from 'src/queue/job-metrics';
import { QueueManager } from 'src/queue/queue-manager';
import { WorkerDrain } from 'src/queue/worker-drain';

/**
 * The queues, on connections that fail fast while Redis is away (no offline queue): a job that
 * cannot be added now is added later by whoever owns the durable record of it (the webhook outbox
 * sweeper, for one). Not in a process that runs workers: a worker takes its queue's connection,
 * and BullMQ's workers must wait out an outage (ioredis's offline queue), not fail the commands of
 * their own loop, which can leave a worker taking no job after Redis is back.
 */
function queues(failFast: boolean): DynamicModule {
  return BullModule.registerQueueAsync(
    ...QUEUE_NAMES.map((name) => ({
      name,
      inject: [redisConfig.KEY],
      useFactory: (config: RedisConfig) => ({
        defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
        connection: { ...redisConnectionOptions(config.url), enableOfflineQueue: !failFast },
      }),
    })),
  );
}

/** The BullMQ connection (REDIS_URL, REDIS_PREFIX) and every queue of the pipeline. */
@Global()
@Module({})
export class QueueModule {
  static readonly forRole = perRole((role: RoleParts): DynamicModule => {
    const registered = queues(!role.worker);
    return {
      module: QueueModule,
      imports: [
        BullModule.forRootAsync({
          inject: [redisConfig.KEY],
          useFactory: (config: RedisConfig) => ({
            connection: redisConnectionOptions(config.url),
            prefix: config.prefix,
          }),
        }),
        registered,
        DiscoveryModule,
      ],
      providers: [WorkerDrain, JobMetrics, QueueManager],
      exports: [registered, QueueManager],
    };
  });
}

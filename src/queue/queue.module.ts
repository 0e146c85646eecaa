import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { redisConfig, type RedisConfig } from 'src/config/redis.config';
import { redisConnectionOptions } from 'src/queue/redis-connection';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES } from 'src/queue/queue.constants';

const queues = BullModule.registerQueue(
  ...QUEUE_NAMES.map((name) => ({ name, defaultJobOptions: DEFAULT_JOB_OPTIONS[name] })),
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
  ],
  exports: [queues],
})
export class QueueModule {}

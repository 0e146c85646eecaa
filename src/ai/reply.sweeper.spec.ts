import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { AiReplyScheduler } from 'src/ai/ai-reply.scheduler';
import { ReplySweeper } from 'src/ai/reply.sweeper';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import type { OperationsConfig } from 'src/config/operations.config';
import type { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import type { MessageDeliveryJob } from 'src/queue/jobs';
import type { RedisDataLoss } from 'src/redis/redis-data-loss';
import type { RedisService } from 'src/redis/redis.service';

describe('ReplySweeper, when Redis is back', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterEach(() => jest.useRealTimers());

  it('tries a pass that fails again within seconds, not at the next sweep', async () => {
    jest.useFakeTimers();
    let back: () => void = () => undefined;
    let reads = 0;
    const dataSource = {
      // Each pass reads owed replies, then undelivered messages; the first two reads fail.
      query: () => {
        reads += 1;
        return reads <= 2
          ? Promise.reject(
              new Error("Stream isn't writeable and enableOfflineQueue options is false"),
            )
          : Promise.resolve([]);
      },
    } as unknown as DataSource;
    const sweeper = new ReplySweeper(
      dataSource,
      {} as AiReplyScheduler,
      {} as MessageDeliveryProducer,
      { check: () => Promise.resolve(false) } as unknown as RedisDataLoss,
      {
        onReachable: (look: () => void) => {
          back = look;
          return () => undefined;
        },
      } as unknown as RedisService,
      {} as Queue<MessageDeliveryJob>,
      { outboxSweepMs: 600_000 } as OperationsConfig,
      { aiDebounceMs: 0 } as BehaviourConfig,
    );
    sweeper.onApplicationBootstrap();
    back();
    await jest.advanceTimersByTimeAsync(0);
    expect(reads).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(reads).toBe(2);
    // The third pass, 2 s later, reads both and succeeds; no more quick tries after it.
    await jest.advanceTimersByTimeAsync(2_000);
    expect(reads).toBe(4);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(reads).toBe(4);
    sweeper.onApplicationShutdown();
  });
});

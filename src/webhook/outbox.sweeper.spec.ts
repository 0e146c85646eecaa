import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { OperationsConfig } from 'src/config/operations.config';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import type { RedisService } from 'src/redis/redis.service';
import { OutboxSweeper } from 'src/webhook/outbox.sweeper';
import type { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import type { WebhookBacklog } from 'src/webhook/webhook-backlog';

describe('OutboxSweeper, when Redis is back', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterEach(() => jest.useRealTimers());

  /** A sweeper whose reads fail `failures` times (the queue's connection not back yet). */
  function sweeper(failures: number, backlogKnown = true) {
    let back: () => void = () => undefined;
    const minAges: number[] = [];
    const dataSource = {
      query: (_sql: string, params: unknown[]) => {
        minAges.push(params[0] as number);
        return minAges.length <= failures
          ? Promise.reject(
              new Error("Stream isn't writeable and enableOfflineQueue options is false"),
            )
          : Promise.resolve([]);
      },
    } as unknown as DataSource;
    const redis = {
      onReachable: (look: () => void) => {
        back = look;
        return () => undefined;
      },
    } as unknown as RedisService;
    const outbox = new OutboxSweeper(
      dataSource,
      {} as Queue<ProcessWebhookJob>,
      { add: () => Promise.resolve() } as unknown as ProcessWebhookProducer,
      { outboxSweepMs: 600_000 } as OperationsConfig,
      redis,
      {
        limit: 100,
        holding: () => false,
        read: () =>
          backlogKnown
            ? Promise.resolve({ queued: 0, heldFrom: null })
            : Promise.reject(new Error('Connection is closed.')),
      } as unknown as WebhookBacklog,
    );
    return { outbox, minAges, redisBack: () => back() };
  }

  it('tries the catch-up again within seconds when it fails, not at the next sweep', async () => {
    jest.useFakeTimers();
    const { outbox, minAges, redisBack } = sweeper(2);
    outbox.onApplicationBootstrap();
    redisBack();
    await jest.advanceTimersByTimeAsync(0);
    expect(minAges).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(minAges).toEqual([0, 0]);
    // The third try (2 s later) reads every event whatever its age, and succeeds.
    await jest.advanceTimersByTimeAsync(2_000);
    expect(minAges).toEqual([0, 0, 0]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(minAges).toHaveLength(3);
    outbox.onApplicationShutdown();
  });

  it('gives up the quick tries after three, leaving the catch-up to the next sweep', async () => {
    jest.useFakeTimers();
    const { outbox, minAges, redisBack } = sweeper(10);
    outbox.onApplicationBootstrap();
    redisBack();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(minAges).toEqual([0, 0, 0, 0]);
    await jest.advanceTimersByTimeAsync(600_000);
    expect(minAges).toEqual([0, 0, 0, 0, 0]);
    outbox.onApplicationShutdown();
  });

  it('sweeps even when the depth of the queue cannot be read (the general connection not back yet)', async () => {
    const { outbox, minAges } = sweeper(0, false);
    await outbox.sweep();
    expect(minAges).toEqual([5]);
  });
});

import type { Queue } from 'bullmq';
import type { OperationsConfig } from 'src/config/operations.config';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import type { RedisService } from 'src/redis/redis.service';
import { WebhookBacklog } from 'src/webhook/webhook-backlog';

/** A backlog over a Redis whose queue keys answer `depth` (wait, prioritized, delayed) and `held`. */
function backlog(limit: number) {
  const redisState = { depth: [0, 0, 0], held: null as string | null };
  const sets: unknown[][] = [];
  const transaction = {
    llen: () => transaction,
    zcard: () => transaction,
    get: () => transaction,
    exec: () =>
      Promise.resolve([...redisState.depth, redisState.held].map((value) => [null, value])),
  };
  const redis = {
    key: (...parts: string[]) => ['radd', ...parts].join(':'),
    client: {
      multi: () => transaction,
      set: (...args: unknown[]) => {
        sets.push(args);
        return Promise.resolve('OK');
      },
    },
  } as unknown as RedisService;
  const queue = {
    keys: { wait: 'w', prioritized: 'p', delayed: 'd' },
  } as unknown as Queue<ProcessWebhookJob>;
  const subject = new WebhookBacklog(queue, redis, {
    webhookQueueLimit: limit,
  } as OperationsConfig);
  return { subject, redisState, sets };
}

describe('WebhookBacklog', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves the room unbounded until it has read the queue, and while its reading is stale', async () => {
    jest.useFakeTimers();
    const { subject, redisState } = backlog(10);
    expect(subject.room()).toBe(Number.POSITIVE_INFINITY);
    redisState.depth = [6, 0, 1];
    await subject.read();
    expect(subject.room()).toBe(3);
    jest.advanceTimersByTime(5_001);
    expect(subject.room()).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts its own adds between readings, and has no room once the queue is at the limit', async () => {
    const { subject, redisState } = backlog(10);
    redisState.depth = [4, 0, 2];
    await subject.read();
    subject.added(3);
    expect(subject.room()).toBe(1);
    subject.added(5);
    expect(subject.room()).toBe(0);
    expect(subject.holding()).toBe(false);
  });

  it('has no room while events are held, however short the queue', async () => {
    const { subject, redisState, sets } = backlog(10);
    await subject.read();
    expect(subject.room()).toBe(10);
    await subject.hold('event-1');
    expect(sets).toEqual([['radd:webhooks:held-from', 'event-1', 'NX']]);
    expect(subject.room()).toBe(0);
    expect(subject.holding()).toBe(true);

    redisState.held = 'event-1';
    await subject.read();
    expect(subject.room()).toBe(0);
    redisState.held = null;
    await subject.read();
    expect(subject.room()).toBe(10);
  });
});

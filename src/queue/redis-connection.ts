import type { RedisOptions } from 'ioredis';

/**
 * ioredis options from a redis:// URL. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on
 * BRPOPLPUSH-style calls); reconnection backs off to at most 2 s so recovery after an outage is quick.
 */
export function redisConnectionOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    // Not jittered: with random waits, a worker's blocking connection at times did not close after
    // a Redis restart (BullMQ's close waited on it for over 30 s; 4 hangs in 17 runs of the outbox
    // e2e test, none in 20 without). A handful of processes reconnecting together is no herd.
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
  };
}

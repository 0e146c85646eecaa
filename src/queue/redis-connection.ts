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
    // Each process at a random 75-100% of the step, so that they do not all reconnect at once.
    retryStrategy: (times: number) =>
      Math.round(Math.min(times * 200, 2_000) * (0.75 + Math.random() * 0.25)),
  };
}

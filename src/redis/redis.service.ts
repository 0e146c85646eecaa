import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { redisConfig, type RedisConfig } from 'src/config/redis.config';
import { redisConnectionOptions } from 'src/queue/redis-connection';

/**
 * A general-purpose Redis connection (health pings, rate limiters) that fails fast while Redis is
 * away instead of queueing commands: callers decide what an outage means for them.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  readonly prefix: string;

  constructor(@Inject(redisConfig.KEY) config: RedisConfig) {
    this.prefix = config.prefix;
    this.client = new Redis({
      ...redisConnectionOptions(config.url),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
    });
    // Outages are reported by whoever uses the client; ioredis would otherwise print each retry.
    this.client.on('error', () => undefined);
    this.client.connect().catch(() => undefined);
  }

  /** Whether Redis answers this connection now. */
  reachable(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Calls `look` now if Redis is reachable, and each time it is reachable again after an outage;
   * returns what stops that.
   */
  onReachable(look: () => void): () => void {
    this.client.on('ready', look);
    if (this.reachable()) look();
    return () => this.client.off('ready', look);
  }

  /** A key under REDIS_PREFIX. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /**
   * Closed last: the jobs a worker drains before shutdown (beforeApplicationShutdown) still take
   * send slots and check pauses through this connection.
   */
  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

import { Injectable } from '@nestjs/common';
import { once } from 'node:events';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout } from 'src/common/timeout';
import { RedisService } from 'src/redis/redis.service';

const PING_TIMEOUT_MS = 1_000;

/** Readiness of Redis: a PING on a connection that fails fast instead of queueing. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.healthIndicatorService.check(key);
    try {
      const { client } = this.redis;
      if (client.status === 'wait' || client.status === 'end') {
        await withTimeout(client.connect(), PING_TIMEOUT_MS, 'redis connect');
      } else if (client.status !== 'ready') {
        // Still (re)connecting: give it the ping's time budget rather than failing at once.
        await once(client, 'ready', { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      }
      await withTimeout(client.ping(), PING_TIMEOUT_MS, 'redis ping');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

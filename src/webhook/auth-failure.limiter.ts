import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisService } from 'src/redis/redis.service';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

/** Failed authentications an address may make in a minute before it is answered 429. */
export const AUTH_FAILURES_PER_MINUTE = 100;
const WINDOW_SECONDS = 60;

/** What an address failed to authenticate to: a webhook route, or the queue dashboard's login. */
export type AuthRoute = WebhookSource | 'queue-dashboard';

/**
 * Counts failed authentications per route and client address, across every API process (in
 * Redis, with a per-process fallback while Redis is away). Only failures are counted: a correctly
 * signed webhook is never throttled, whatever its address did before (a login, which checks
 * `isBlocked` first, is). Each route counts its own: forged Instagram posts from an address do not
 * turn its ManyChat requests away, nor the reverse.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: RedisService) {
    const options = {
      points: AUTH_FAILURES_PER_MINUTE,
      duration: WINDOW_SECONDS,
      keyPrefix: redis.key('webhook-auth-failures'),
    };
    this.limiter = new RateLimiterRedis({
      ...options,
      storeClient: redis.client,
      // Once an address is over the limit, further failures are answered from memory.
      inMemoryBlockOnConsumed: AUTH_FAILURES_PER_MINUTE + 1,
      inMemoryBlockDuration: WINDOW_SECONDS,
      insuranceLimiter: new RateLimiterMemory(options),
    });
  }

  /** Records one failure of `address` on `route`; true when it is now over the limit there. */
  async recordFailure(route: AuthRoute, address: string): Promise<boolean> {
    try {
      await this.limiter.consume(`${route}:${address}`);
      return false;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return true;
      // Neither store answered: do not block anybody on our own failure.
      return false;
    }
  }

  /**
   * Whether `address` is over the limit on `route` now, without counting anything: a login checks
   * this before the credentials, so that past the limit a right guess is not told from a wrong one.
   */
  async isBlocked(route: AuthRoute, address: string): Promise<boolean> {
    const state = await this.limiter.get(`${route}:${address}`).catch(() => null);
    return state !== null && state.consumedPoints > AUTH_FAILURES_PER_MINUTE;
  }
}

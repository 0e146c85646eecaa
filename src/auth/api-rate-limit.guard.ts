import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { securityConfig, type SecurityConfig } from 'src/config/security.config';
import { RedisService } from 'src/redis/redis.service';

const WINDOW_SECONDS = 60;
export const API_PATH_PREFIX = '/api/';

/**
 * `API_RATE_LIMIT_PER_MINUTE` requests a minute on `/api/*` per token holder (its `sub`, role
 * and merchant), counted in Redis so that every API process shares the budget; the client
 * address stands in for requests without a principal. While Redis is away each process counts
 * on its own. Runs after ApiAuthGuard, so it sees the verified principal.
 */
@Injectable()
export class ApiRateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiterRedis;
  private readonly points: number;

  constructor(redis: RedisService, @Inject(securityConfig.KEY) config: SecurityConfig) {
    this.points = config.apiRateLimitPerMinute;
    const options = {
      points: this.points,
      duration: WINDOW_SECONDS,
      keyPrefix: redis.key('api-rate'),
    };
    this.limiter = new RateLimiterRedis({
      ...options,
      storeClient: redis.client,
      inMemoryBlockOnConsumed: this.points + 1,
      inMemoryBlockDuration: WINDOW_SECONDS,
      insuranceLimiter: new RateLimiterMemory(options),
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (!request.url.startsWith(API_PATH_PREFIX)) return true;
    const reply = http.getResponse<FastifyReply>();
    const principal = request.principal;
    const key = principal
      ? `token:${principal.role}:${principal.merchantId ?? '-'}:${principal.sub}`
      : `ip:${request.ip}`;
    void reply.header('x-ratelimit-limit', this.points);
    try {
      const result = await this.limiter.consume(key);
      void reply.header('x-ratelimit-remaining', result.remainingPoints);
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return true; // no store answered: do not block
      void reply.header('x-ratelimit-remaining', 0);
      void reply.header('retry-after', Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      throw new HttpException(
        `rate limit exceeded: ${this.points} requests a minute per token`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }
}

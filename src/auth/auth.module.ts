import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiAuthGuard } from 'src/auth/api-auth.guard';
import { ApiRateLimitGuard } from 'src/auth/api-rate-limit.guard';
import { TokenService } from 'src/auth/token.service';

/**
 * Authentication of the admin API: every route needs a bearer JWT unless marked `@Public()`;
 * then the per-token rate limit of `/api/*`. Guards run in this order.
 */
@Global()
@Module({
  providers: [
    TokenService,
    { provide: APP_GUARD, useClass: ApiAuthGuard },
    { provide: APP_GUARD, useClass: ApiRateLimitGuard },
  ],
  exports: [TokenService],
})
export class AuthModule {}

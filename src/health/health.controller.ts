import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { RedisHealthIndicator } from 'src/health/redis.health';
import { Public } from 'src/auth/auth.decorators';

/** Kubernetes probes: liveness checks nothing outside the process, readiness checks what we own. */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get()
  @HealthCheck()
  check() {
    return this.readiness();
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.readiness();
  }

  private readiness() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 1_000 }),
      () => this.redis.isHealthy('redis'),
    ]);
  }
}

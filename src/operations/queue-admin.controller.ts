import {
  Controller,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from 'src/auth/auth.decorators';
import { withTimeout } from 'src/common/timeout';
import {
  QueueManager,
  isQueueName,
  type FailedJob,
  type QueueCounts,
  type QueueHealth,
} from 'src/queue/queue-manager';
import type { QueueName } from 'src/queue/queue.constants';

/**
 * How long a request waits for Redis. The queues' connections wait out an outage rather than fail
 * (see QueueModule), so without a bound a request would hang for as long as Redis is away.
 */
const REDIS_READ_TIMEOUT_MS = 2_000;

function queueNamed(name: string): QueueName {
  if (!isQueueName(name)) throw new NotFoundException(`no queue named ${name}`);
  return name;
}

/** Queue inspection for operators (INTERFACE §3.3): counts, health, dead letters. */
@Controller('api/queue')
@AdminOnly()
export class QueueAdminController {
  private readonly logger = new Logger(QueueAdminController.name);

  constructor(private readonly queues: QueueManager) {}

  @Get('stats')
  async stats(): Promise<{ queues: Record<QueueName, QueueCounts> }> {
    return { queues: await this.fromRedis(this.queues.stats()) };
  }

  /** 200 when every queue is healthy, else 503; the body says why, per queue. */
  @Get('health')
  async health(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ healthy: boolean; queues: Record<string, QueueHealth> }> {
    const entries = await this.fromRedis(
      Promise.all(
        this.queues.all().map(async ([name]) => [name, await this.queues.health(name)] as const),
      ),
    );
    const healthy = entries.every(([, health]) => health.healthy);
    void reply.status(healthy ? 200 : 503);
    return { healthy, queues: Object.fromEntries(entries) };
  }

  @Get(':name/failed')
  async failed(
    @Param('name') name: string,
    @Query('start') start?: string,
    @Query('limit') limit?: string,
  ): Promise<{ jobs: FailedJob[] }> {
    const from = Math.max(0, Number.parseInt(start ?? '0', 10) || 0);
    const size = Math.min(100, Math.max(1, Number.parseInt(limit ?? '50', 10) || 50));
    return { jobs: await this.fromRedis(this.queues.failed(queueNamed(name), from, size)) };
  }

  @Post(':name/failed/retry')
  @HttpCode(202)
  async retry(@Param('name') name: string): Promise<{ retried: number }> {
    return { retried: await this.fromRedis(this.queues.retryFailed(queueNamed(name))) };
  }

  /** What the queues hold lives in Redis: while Redis does not answer, 503 rather than a hang or 500. */
  private async fromRedis<T>(work: Promise<T>): Promise<T> {
    try {
      return await withTimeout(work, REDIS_READ_TIMEOUT_MS, 'queue read');
    } catch (error) {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'Redis did not answer a queue request',
      );
      throw new ServiceUnavailableException('Redis is unavailable: the queues cannot be read now');
    }
  }
}

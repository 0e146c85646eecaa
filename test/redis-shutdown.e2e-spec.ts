import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readEnvironment } from 'src/config/env';
import { redisConfig } from 'src/config/redis.config';
import { RedisService } from 'src/redis/redis.service';

/** Stands for a queue worker draining its jobs at shutdown: they still use Redis. */
@Injectable()
class DrainingJob implements BeforeApplicationShutdown {
  answer?: string;

  constructor(private readonly redis: RedisService) {}

  async beforeApplicationShutdown(): Promise<void> {
    this.answer = await this.redis.client.ping();
  }
}

describe('RedisService at shutdown (e2e)', () => {
  it('stays connected while jobs drain, and closes after', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        RedisService,
        DrainingJob,
        {
          provide: redisConfig.KEY,
          useValue: {
            url: readEnvironment(undefined, { requireSecrets: false }).REDIS_URL,
            prefix: 'radd-test',
          },
        },
      ],
    }).compile();
    const app = await moduleRef.init();
    const redis = app.get(RedisService);
    await new Promise<void>((resolve) => redis.onReachable(resolve));
    const ended = new Promise<void>((resolve) => redis.client.once('end', resolve));
    await app.close();
    expect(app.get(DrainingJob).answer).toBe('PONG');
    await ended;
  });
});

import { registerAs } from '@nestjs/config';
import { readEnvironment } from 'src/config/env';

export const redisConfig = registerAs('redis', () => {
  const env = readEnvironment();
  return { url: env.REDIS_URL, prefix: env.REDIS_PREFIX };
});
export type RedisConfig = ReturnType<typeof redisConfig>;

import { redisConnectionOptions } from 'src/queue/redis-connection';

describe('redisConnectionOptions', () => {
  it('reads host, port, credentials and database from the URL', () => {
    expect(redisConnectionOptions('redis://user:p%40ss@cache.internal:6380/2')).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: undefined,
      maxRetriesPerRequest: null,
    });
  });

  it('defaults the port and database, and turns on TLS for rediss://', () => {
    expect(redisConnectionOptions('rediss://cache')).toMatchObject({
      host: 'cache',
      port: 6379,
      db: 0,
      tls: {},
    });
  });

  it('unwraps IPv6 hosts', () => {
    expect(redisConnectionOptions('redis://[::1]:6379').host).toBe('::1');
  });

  it('backs off reconnection to at most two seconds, each process at a random share of it', () => {
    const { retryStrategy } = redisConnectionOptions('redis://127.0.0.1');
    const waits = (times: number) => Array.from({ length: 200 }, () => retryStrategy?.(times) ?? 0);
    for (const [times, step] of [
      [1, 200],
      [100, 2_000],
    ]) {
      const spread = waits(times);
      expect(Math.min(...spread)).toBeGreaterThanOrEqual(step * 0.75);
      expect(Math.max(...spread)).toBeLessThanOrEqual(step);
      expect(new Set(spread).size).toBeGreaterThan(10);
    }
  });
});

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

  it('backs off reconnection to at most two seconds', () => {
    const { retryStrategy } = redisConnectionOptions('redis://127.0.0.1');
    expect(retryStrategy?.(1)).toBe(200);
    expect(retryStrategy?.(100)).toBe(2_000);
  });
});

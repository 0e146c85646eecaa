import { TokenService } from 'src/auth/token.service';
import { startApp, type TestApp } from 'test/utils/app';

describe('health (e2e)', () => {
  describe('with PostgreSQL and Redis up', () => {
    let radd: TestApp;
    beforeAll(async () => {
      radd = await startApp();
    });
    afterAll(() => radd.close());

    it('answers liveness without checking dependencies', async () => {
      const res = await fetch(`${radd.url}/health/live`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it.each(['/health/ready', '/health'])('reports %s up with the Terminus body', async (path) => {
      const res = await fetch(`${radd.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        status: 'ok',
        info: { database: { status: 'up' }, redis: { status: 'up' } },
        error: {},
        details: { database: { status: 'up' }, redis: { status: 'up' } },
      });
    });

    it('echoes a well-formed request id and makes one otherwise', async () => {
      const given = await fetch(`${radd.url}/health/live`, {
        headers: { 'x-request-id': 'trace-123' },
      });
      expect(given.headers.get('x-request-id')).toBe('trace-123');
      const made = await fetch(`${radd.url}/health/live`, {
        headers: { 'x-request-id': 'not a valid id!' },
      });
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('with Redis unreachable', () => {
    let radd: TestApp;
    beforeAll(async () => {
      // Port 9 (discard) has no listener here: every connection is refused.
      radd = await startApp({ REDIS_URL: 'redis://127.0.0.1:9' });
    });
    afterAll(() => radd.close());

    it('stays live', async () => {
      expect((await fetch(`${radd.url}/health/live`)).status).toBe(200);
    });

    it('answers ready 503 within 2 s, naming Redis', async () => {
      const started = Date.now();
      const res = await fetch(`${radd.url}/health/ready`);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(elapsed).toBeLessThan(2_000);
      const body = (await res.json()) as {
        status: string;
        error: Record<string, unknown>;
        info: Record<string, unknown>;
      };
      expect(body.status).toBe('error');
      expect(body.error).toHaveProperty('redis.status', 'down');
      expect(body.info).toHaveProperty('database.status', 'up');
    });

    it('answers the queue admin routes 503 within 3 s, instead of waiting for Redis', async () => {
      const token = radd.app.get(TokenService).issue({ role: 'admin', sub: 'ops' });
      const routes: Array<[string, string]> = [
        ['GET', '/api/queue/stats'],
        ['GET', '/api/queue/health'],
        ['GET', '/api/queue/process-webhook/failed'],
        ['POST', '/api/queue/process-webhook/failed/retry'],
      ];
      for (const [method, path] of routes) {
        const started = Date.now();
        const res = await fetch(`${radd.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}` },
        });
        expect({ path, status: res.status }).toEqual({ path, status: 503 });
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(await res.json()).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'Redis is unavailable: the queues cannot be read now',
        });
      }
    });
  });

  describe('with PostgreSQL gone after start-up', () => {
    let radd: TestApp;
    let database: string;
    beforeAll(async () => {
      radd = await startApp();
      database = new URL(process.env.DATABASE_URL ?? '').pathname.slice(1);
    });
    afterAll(() => radd.close());

    it('answers ready 503 within 2 s, naming the database, and the admin API 503 too', async () => {
      // Point the pool at a server that does not exist by terminating its connections and
      // revoking new ones for the run's database, then restore access.
      const { Client } = await import('pg');
      const admin = new Client({
        connectionString: process.env.DATABASE_URL?.replace(/\/[^/]+$/, '/postgres'),
      });
      await admin.connect();
      try {
        await admin.query(
          `ALTER DATABASE ${admin.escapeIdentifier(database)} ALLOW_CONNECTIONS false`,
        );
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [database],
        );
        const started = Date.now();
        const res = await fetch(`${radd.url}/health/ready`);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(res.status).toBe(503);
        expect(await res.json()).toHaveProperty('error.database.status', 'down');
        // The admin API says the same: retry later, not an internal error.
        const token = radd.app.get(TokenService).issue({ role: 'admin', sub: 'ops' });
        const merchants = await fetch(`${radd.url}/api/merchants`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(await merchants.json()).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'storage is unavailable, retry later',
        });
        expect(merchants.status).toBe(503);
      } finally {
        await admin.query(
          `ALTER DATABASE ${admin.escapeIdentifier(database)} ALLOW_CONNECTIONS true`,
        );
        await admin.end();
      }
      // And it recovers on its own once the database is back.
      const deadline = Date.now() + 5_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = (await fetch(`${radd.url}/health/ready`)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    });
  });
});

import Redis from 'ioredis';
import { Client } from 'pg';

/** Drops the run's database and deletes every Redis key under the run's prefixes. */
export default async function globalTeardown(): Promise<void> {
  const url = process.env.E2E_TEMPLATE_DATABASE_URL;
  const run = process.env.E2E_RUN_ID;
  if (!url || !run) return;
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    // The run's database and any copy a test file left behind.
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_')`,
      [name],
    );
    for (const row of rows) {
      await client.query(
        `DROP DATABASE IF EXISTS ${client.escapeIdentifier(row.datname)} WITH (FORCE)`,
      );
    }
  } finally {
    await client.end();
  }
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `e2e-${run}-*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Redis may be down on purpose in a failing run; its keys expire with the machine.
  } finally {
    redis.disconnect();
  }
}

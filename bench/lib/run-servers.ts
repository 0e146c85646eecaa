import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Cleanup } from 'bench/lib/cleanup';
import { OwnPostgres, OwnRedis } from 'bench/lib/servers';

/** The PostgreSQL server and Redis that a benchmark runs Radd against. */
export interface Servers {
  /** PostgreSQL server URL (any database; a run creates its own next to it). */
  postgres: string;
  redis: string;
  /** Which servers these are and how they are set up, for the report. */
  description: string;
}

/**
 * The servers of one bench run. BENCH_POSTGRES_URL and BENCH_REDIS_URL name existing ones;
 * otherwise the run starts a PostgreSQL cluster and a redis-server of its own, configured as
 * deployed (autovacuum; AOF every second, noeviction), on first use, and removes them when the
 * run ends, keeping PostgreSQL's log (checkpoints and autovacuum runs, timed) in `logDir`. A
 * shared development or CI server is often tuned otherwise (this repository's CI turns autovacuum
 * off), and over minutes of load that decides what a message costs.
 */
export class RunServers {
  private pending?: Promise<Servers>;

  constructor(
    private readonly cleanup: Cleanup,
    private readonly progress: (message: string) => void,
    private readonly logDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get(): Promise<Servers> {
    this.pending ??= this.start();
    return this.pending;
  }

  private async start(): Promise<Servers> {
    const postgresUrl = this.env.BENCH_POSTGRES_URL?.trim();
    const redisUrl = this.env.BENCH_REDIS_URL?.trim();
    const [postgres, redis] = await Promise.all([
      postgresUrl
        ? { url: postgresUrl, label: 'PostgreSQL from BENCH_POSTGRES_URL' }
        : this.ownPostgres(),
      redisUrl ? { url: redisUrl, label: 'Redis from BENCH_REDIS_URL' } : this.ownRedis(),
    ]);
    return {
      postgres: postgres.url,
      redis: redis.url,
      description: `${postgres.label}; ${redis.label}`,
    };
  }

  private async ownPostgres(): Promise<{ url: string; label: string }> {
    this.progress('starting a PostgreSQL cluster of the run’s own (autovacuum on)');
    const cluster = await OwnPostgres.create('bench');
    this.cleanup.add('remove the PostgreSQL cluster', async () => {
      try {
        await cluster.stop().catch(() => undefined);
        mkdirSync(this.logDir, { recursive: true });
        copyFileSync(cluster.logFile, join(this.logDir, 'postgresql.log'));
      } finally {
        await cluster.destroy();
      }
    });
    return {
      url: cluster.serverUrl,
      label: 'a PostgreSQL cluster of the run’s own (fsync, synchronous commit, autovacuum)',
    };
  }

  private async ownRedis(): Promise<{ url: string; label: string }> {
    this.progress('starting a redis-server of the run’s own (AOF every second, noeviction)');
    const redis = await OwnRedis.create('bench');
    this.cleanup.add('remove the redis-server', () => redis.destroy());
    return {
      url: redis.url,
      label: 'a redis-server of the run’s own (AOF every second, noeviction)',
    };
  }
}

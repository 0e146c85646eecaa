import { register } from 'tsconfig-paths';

register({ baseUrl: `${__dirname}/../..`, paths: { 'src/*': ['src/*'], 'test/*': ['test/*'] } });

/**
 * Once per run: a fresh database with every migration applied (each test file works on a copy of
 * it), and a Redis prefix of the run's own. Test files inherit both through the environment and
 * clean up after themselves; teardown drops the run's databases and every Redis key of the run.
 */
export default async function globalSetup(): Promise<void> {
  const { runMigrations } = await import('src/database/migrate');
  const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const base = new URL(
    process.env.E2E_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  base.pathname = `/radd_e2e_${run}`;
  process.env.DATABASE_URL = base.toString();
  // Each test file copies this one (test/setup/file-database.ts).
  process.env.E2E_TEMPLATE_DATABASE_URL = base.toString();
  process.env.E2E_RUN_ID = run;
  process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  await runMigrations({ url: base.toString(), poolSize: 2 });
}

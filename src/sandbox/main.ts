import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { createApp, listen } from 'src/bootstrap';
import { databaseSettings } from 'src/config/database.config';
import { readEnvironment } from 'src/config/env';
import { runMigrations } from 'src/database/migrate';

/**
 * `npm run sandbox`: Radd on this machine with settings of its own, so it runs with no account
 * anywhere. These secrets are public by design: they only ever guard a local sandbox.
 */
const SANDBOX_SETTINGS: Record<string, string> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/radd_sandbox',
  REDIS_PREFIX: 'radd-sandbox',
  META_APP_SECRET: 'radd-sandbox-meta-app-secret',
  IG_VERIFY_TOKEN: 'radd-sandbox-verify-token',
  ENCRYPTION_KEY: createHash('sha256').update('radd-sandbox-encryption-key').digest('hex'),
  JWT_SECRET: 'radd-sandbox-jwt-secret',
  APP_ROLE: 'all',
};

const HELP_POSTGRES =
  'PostgreSQL is not answering on 127.0.0.1:5432. Start it with:\n' +
  '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const HELP_REDIS =
  'Redis is not answering on 127.0.0.1:6379. Start it with:\n' +
  '  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no';

async function main(): Promise<void> {
  for (const [key, value] of Object.entries(SANDBOX_SETTINGS)) process.env[key] ??= value;
  const env = readEnvironment();

  try {
    await runMigrations(databaseSettings(env));
  } catch (error) {
    throw new Error(`${HELP_POSTGRES}\n(${(error as Error).message})`);
  }

  const app = await createApp();
  const url = await listen(app);
  const ready = await fetch(`${url.replace('0.0.0.0', '127.0.0.1')}/health/ready`);
  if (!ready.ok) process.stderr.write(`\n${HELP_REDIS}\n`);

  process.stdout.write(
    [
      '',
      `Radd sandbox is running at ${url}`,
      `  health:   ${url}/health`,
      `  database: ${env.DATABASE_URL}`,
      '',
      'The webhook, the AI replier and the simulated Instagram and ManyChat arrive with the next',
      'releases; this sandbox then seeds a demo shop and lets you chat with it from here.',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { databaseSettings } from 'src/config/database.config';
import { readEnvironment } from 'src/config/env';
import { runMigrations } from 'src/database/migrate';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL. */
async function main(): Promise<void> {
  const logger = new Logger('Migrations');
  const applied = await runMigrations(
    databaseSettings(readEnvironment(undefined, { requireSecrets: false })),
  );
  logger.log(applied.length > 0 ? `applied ${applied.join(', ')}` : 'the schema is up to date');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `migration failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from 'src/config/database.config';
import { typeOrmOptions } from 'src/database/typeorm-options';

/** Any fixed number: only one migration runner at a time, across every pod. */
const MIGRATION_LOCK = 7_202_611;

const logger = new Logger('Migrations');

/** Creates the database named in the URL when it does not exist yet. Returns whether it did. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    const ident = client.escapeIdentifier(name);
    try {
      await client.query(`CREATE DATABASE ${ident}`);
    } catch (error) {
      // Another runner created it a moment ago: that is what we wanted.
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Applies every pending migration, under an advisory lock; returns the names applied. */
export async function runMigrations(config: DatabaseConfig): Promise<string[]> {
  if (await ensureDatabase(config.url)) logger.log('created the database');
  const dataSource = new DataSource({ ...typeOrmOptions(config), extra: { max: 1 } });
  await dataSource.initialize();
  try {
    await dataSource.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

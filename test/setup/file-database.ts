import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Each test file gets a database of its own, copied from the run's migrated one: sweepers and
 * every query that looks across merchants see this file's rows only, and a file that takes its
 * database away (outage tests) takes no one else's.
 */
const template = new URL(process.env.E2E_TEMPLATE_DATABASE_URL ?? '');
const templateName = decodeURIComponent(template.pathname.slice(1));
const own = new URL(template);
own.pathname = `/${templateName}_${randomBytes(4).toString('hex')}`;
const ownName = decodeURIComponent(own.pathname.slice(1));
process.env.DATABASE_URL = own.toString();

async function admin<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const url = new URL(template);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin((client) =>
    client.query(
      `CREATE DATABASE ${client.escapeIdentifier(ownName)} TEMPLATE ${client.escapeIdentifier(templateName)}`,
    ),
  );
});

afterAll(async () => {
  await admin((client) =>
    client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(ownName)} WITH (FORCE)`),
  );
});

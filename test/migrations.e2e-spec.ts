import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { runMigrations } from 'src/database/migrate';
import { MIGRATIONS } from 'src/database/migrations';
import { typeOrmOptions } from 'src/database/typeorm-options';

function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('migrations (e2e)', () => {
  const name = `radd_migrate_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);

  afterAll(() =>
    withClient(databaseUrl('postgres'), (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`),
    ),
  );

  it('creates the missing database and the whole schema, then has nothing left to do', async () => {
    const applied = await runMigrations({ url, poolSize: 1 });
    expect(applied).toEqual(MIGRATIONS.map((migration) => new migration().name));

    const tables = await withClient(url, (client) =>
      client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      ),
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      'conversations',
      'customers',
      'delivery_parts',
      'inbound_events',
      'merchants',
      'messages',
      'migrations',
      'products',
      'webhook_events',
    ]);

    expect(await runMigrations({ url, poolSize: 1 })).toEqual([]);
  });

  it('matches the entities exactly (no drift between migrations and code)', async () => {
    const dataSource = new DataSource(typeOrmOptions({ url, poolSize: 1 }));
    await dataSource.initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('gives every tenant table a merchant id and keeps tenants apart in its unique keys', async () => {
    await withClient(url, async (client) => {
      const columns = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.columns
          WHERE table_schema = 'public' AND column_name = 'merchant_id' ORDER BY table_name`,
      );
      expect(columns.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['conversations', 'customers', 'messages', 'products']),
      );

      const merchants = await client.query<{ id: string }>(
        `INSERT INTO merchants (name, instagram_account_id, delivery_channel)
         VALUES ('A', '17841400000000001', 'manychat'), ('B', '17841400000000002', 'instagram')
         RETURNING id`,
      );
      const [a, b] = merchants.rows.map((row) => row.id);
      await expect(
        client.query(
          `INSERT INTO merchants (name, instagram_account_id, delivery_channel) VALUES ('C', '17841400000000001', 'manychat')`,
        ),
      ).rejects.toThrow(/uq_merchants_instagram_account/);
      await expect(
        client.query(
          `INSERT INTO merchants (name, instagram_account_id, delivery_channel) VALUES ('D', '1', 'sms')`,
        ),
      ).rejects.toThrow(/ck_merchants_delivery_channel/);

      // The same IGSID at two merchants is two customers; twice at one merchant is refused.
      const customers = await client.query<{ id: string; merchant_id: string }>(
        `INSERT INTO customers (merchant_id, igsid) VALUES ($1, '5678'), ($2, '5678') RETURNING id, merchant_id`,
        [a, b],
      );
      await expect(
        client.query(`INSERT INTO customers (merchant_id, igsid) VALUES ($1, '5678')`, [a]),
      ).rejects.toThrow(/uq_customers_merchant_igsid/);

      const customerA = customers.rows.find((row) => row.merchant_id === a)?.id;
      const conversation = await client.query<{ id: string }>(
        `INSERT INTO conversations (merchant_id, customer_id) VALUES ($1, $2) RETURNING id`,
        [a, customerA],
      );
      await expect(
        client.query(`INSERT INTO conversations (merchant_id, customer_id) VALUES ($1, $2)`, [
          a,
          customerA,
        ]),
      ).rejects.toThrow(/uq_conversations_merchant_customer/);

      const insertMessage = `INSERT INTO messages (merchant_id, conversation_id, direction, sender, text, mid, occurred_at)
                             VALUES ($1, $2, 'in', 'customer', 'شكد سعرها؟', $3, now())`;
      await client.query(insertMessage, [
        a,
        conversation.rows[0].id,
        'aWdfZAG1faXRlbToxOklHTWVzc2FnZA',
      ]);
      await expect(
        client.query(insertMessage, [
          a,
          conversation.rows[0].id,
          'aWdfZAG1faXRlbToxOklHTWVzc2FnZA',
        ]),
      ).rejects.toThrow(/uq_messages_merchant_mid/);
      // Outbound messages have no mid until Meta gives one: many may be null.
      await client.query(insertMessage, [a, conversation.rows[0].id, null]);
      await client.query(insertMessage, [a, conversation.rows[0].id, null]);

      await client.query(
        `INSERT INTO products (merchant_id, sku, name, price) VALUES ($1, 'DR-1', 'فستان', 25000), ($2, 'DR-1', 'فستان', 30000)`,
        [a, b],
      );
      await expect(
        client.query(
          `INSERT INTO products (merchant_id, sku, name, price) VALUES ($1, 'DR-1', 'x', 1)`,
          [a],
        ),
      ).rejects.toThrow(/uq_products_merchant_sku/);

      // Deleting a merchant takes everything of that merchant with it, and nothing of another.
      await client.query(`DELETE FROM merchants WHERE id = $1`, [a]);
      const left = await client.query<{ merchant_id: string }>(
        `SELECT merchant_id FROM customers UNION ALL SELECT merchant_id FROM products`,
      );
      expect(left.rows.every((row) => row.merchant_id === b)).toBe(true);
      expect(left.rows).toHaveLength(2);
    });
  });

  it('bumps a merchant’s catalogue version with every write to its products, and only its own', async () => {
    await withClient(url, async (client) => {
      const merchants = await client.query<{ id: string }>(
        `INSERT INTO merchants (name, instagram_account_id, delivery_channel)
         VALUES ('E', '17841400000000005', 'manychat'), ('F', '17841400000000006', 'manychat')
         RETURNING id`,
      );
      const [e, f] = merchants.rows.map((row) => row.id);
      const versions = async () => {
        const rows = await client.query<{ id: string; catalogue_version: string }>(
          `SELECT id, catalogue_version FROM merchants WHERE id = ANY($1::uuid[])`,
          [[e, f]],
        );
        const of = (id: string) =>
          Number(rows.rows.find((row) => row.id === id)?.catalogue_version);
        return [of(e), of(f)];
      };
      expect(await versions()).toEqual([0, 0]);

      // One statement of many rows is one bump.
      await client.query(
        `INSERT INTO products (merchant_id, sku, name, price)
         SELECT $1, 'P-' || n, 'قميص', 1000 * n FROM generate_series(1, 50) AS n`,
        [e],
      );
      expect(await versions()).toEqual([1, 0]);
      await client.query(
        `UPDATE products SET price = price + 1 WHERE merchant_id = $1 AND sku = 'P-1'`,
        [e],
      );
      expect(await versions()).toEqual([2, 0]);
      await client.query(`UPDATE products SET price = 1 WHERE sku = 'no such sku'`);
      expect(await versions()).toEqual([2, 0]);
      await client.query(
        `INSERT INTO products (merchant_id, sku, name, price) VALUES ($1, 'P-2', 'قميص', 5), ($2, 'P-2', 'قميص', 5)
         ON CONFLICT (merchant_id, sku) DO UPDATE SET price = EXCLUDED.price`,
        [e, f],
      );
      const [afterUpsert, fAfterUpsert] = await versions();
      expect(afterUpsert).toBeGreaterThan(2);
      expect(fAfterUpsert).toBe(1);
      await client.query(`DELETE FROM products WHERE merchant_id = $1 AND sku = 'P-3'`, [e]);
      expect(await versions()).toEqual([afterUpsert + 1, 1]);

      // A rolled back write leaves the version as it was.
      await client.query('BEGIN');
      await client.query(`DELETE FROM products WHERE merchant_id = $1`, [e]);
      await client.query('ROLLBACK');
      expect(await versions()).toEqual([afterUpsert + 1, 1]);
    });
  });
});

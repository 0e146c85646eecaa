import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { typeOrmOptions } from 'src/database/typeorm-options';

/** A connection pool of the test's own on this test file's database (no app around it). */
export async function openDatabase(poolSize: number): Promise<DataSource> {
  const dataSource = new DataSource(
    typeOrmOptions({ url: process.env.DATABASE_URL ?? '', poolSize }),
  );
  return dataSource.initialize();
}

/** A merchant written straight to the table, for tests below the API; answers its id. */
export async function insertMerchant(
  dataSource: DataSource,
  name: string,
  deliveryChannel: 'manychat' | 'instagram',
  instagramAccountId?: string,
): Promise<string> {
  const id = randomUUID();
  await dataSource.query(
    `INSERT INTO merchants (id, name, instagram_account_id, delivery_channel)
     VALUES ($1, $2, $3, $4)`,
    [id, name, instagramAccountId ?? `ig-${id}`, deliveryChannel],
  );
  return id;
}

import type { DataSource } from 'typeorm';
import { openDatabase } from 'test/utils/database';

describe("Radd's database sessions (e2e)", () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDatabase(1);
  });

  afterAll(() => dataSource.destroy());

  it('end a transaction left idle for a minute, so a stuck caller cannot hold row locks for long', async () => {
    const [row] = await dataSource.query<Array<{ idle_in_transaction_session_timeout: string }>>(
      `SHOW idle_in_transaction_session_timeout`,
    );
    expect(row.idle_in_transaction_session_timeout).toBe('1min');
  });
});

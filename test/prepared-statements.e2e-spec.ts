import type { DataSource } from 'typeorm';
import { openDatabase } from 'test/utils/database';

describe('prepared statements (e2e)', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    // One connection, so every statement below meets the same server session.
    dataSource = await openDatabase(1);
  });

  afterAll(() => dataSource.destroy());

  async function prepared(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ statement: string }>>(
      `SELECT statement FROM pg_prepared_statements`,
    );
    return rows.map((row) => row.statement);
  }

  it('prepares a repeated statement once on its connection and keeps answering right', async () => {
    const text = `SELECT $1::int + 1 AS n`;
    const answers: number[] = [];
    for (const value of [1, 2, 3]) {
      const [row] = await dataSource.query<Array<{ n: number }>>(text, [value]);
      answers.push(row?.n ?? -1);
    }
    expect(answers).toEqual([2, 3, 4]);
    expect((await prepared()).filter((statement) => statement === text)).toHaveLength(1);
  });

  it('leaves statements without parameters unprepared', async () => {
    const text = `SELECT 41 + 1 AS n`;
    await dataSource.query(text);
    await dataSource.query(text);
    expect(await prepared()).not.toContain(text);
  });

  it('recovers from a prepared statement that fails, inside and outside a transaction', async () => {
    const text = `SELECT 10 / $1::int AS n`;
    await dataSource.query(text, [5]);
    await expect(dataSource.query(text, [0])).rejects.toThrow(/division by zero/);
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query(text, [0]);
      }),
    ).rejects.toThrow(/division by zero/);
    const [row] = await dataSource.query<Array<{ n: number }>>(text, [2]);
    expect(row?.n).toBe(5);
  });
});

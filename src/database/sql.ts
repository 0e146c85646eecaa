import type { DataSource, EntityManager } from 'typeorm';

/**
 * The rows a statement returned, whatever its kind: TypeORM answers UPDATE and DELETE with
 * `[rows, affected]` but INSERT and SELECT with the rows alone.
 */
export async function rowsOf<T>(
  runner: EntityManager | DataSource,
  sql: string,
  parameters: unknown[] = [],
): Promise<T[]> {
  const result: unknown = await runner.query(sql, parameters);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/**
 * A FROM item that lets the transaction of the statement that names it commit without waiting
 * for its WAL to reach the disk (`synchronous_commit` off for that transaction alone; the
 * connection's next transaction is durable again). Only for a statement run on its own, never
 * inside a transaction of several, and only where a synchronous commit is sure to follow before
 * anything that depends on the statement leaves PostgreSQL: that commit flushes the WAL up to its
 * own record, and so this one's too. A crash before it loses the statement's effect, as if it had
 * never run, which its caller must be able to repeat.
 */
export const COMMIT_WITHOUT_WAITING = `(SELECT set_config('synchronous_commit', 'off', true)) AS commit_without_waiting`;

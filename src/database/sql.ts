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

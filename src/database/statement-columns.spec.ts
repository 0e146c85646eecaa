import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * Repeated statements are prepared once per connection (prepared-statements.ts), and PostgreSQL
 * refuses to run a prepared statement whose result columns a migration changed: so no statement
 * takes every column of a table (`SELECT *` from a table, `RETURNING *`).
 */
describe('statements name their columns', () => {
  it('no SELECT * from a table and no RETURNING * in src/', () => {
    const offenders = sourceFiles(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, at: `${relative(SRC, file)}:${index + 1}` }))
        .filter(
          ({ line }) =>
            /RETURNING\s+\*/i.test(line) || /SELECT\s+\*\s+FROM\s+(?!unnest\()/i.test(line),
        )
        .map(({ at }) => at),
    );
    expect(offenders).toEqual([]);
  });
});

import { Client, type QueryConfig } from 'pg';

/**
 * Distinct statement texts that get a server-side prepared statement. Each PostgreSQL connection
 * keeps a parsed copy of every statement it prepared, so the set must stay small: Radd's hot
 * statements number a few dozen; texts seen after the cap is reached run unnamed, as before.
 */
export const PREPARED_STATEMENT_LIMIT = 200;

/**
 * Gives each parameterised statement text a stable name, the second time it is seen. The first
 * sighting stays unnamed, so a one-off statement (a migration, an operator's query) never takes a
 * place in the cache.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private readonly seenOnce = new Set<string>();

  constructor(private readonly limit = PREPARED_STATEMENT_LIMIT) {}

  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= this.limit) return known;
    if (!this.seenOnce.has(text)) {
      if (this.seenOnce.size < this.limit * 4) this.seenOnce.add(text);
      return undefined;
    }
    this.seenOnce.delete(text);
    const name = `radd_${this.names.size + 1}`;
    this.names.set(text, name);
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}

/** One set of names for the whole process: the same text has the same name on every connection. */
const processNames = new StatementNames();

/**
 * A pg client that runs every repeated parameterised statement as a named prepared statement, so
 * PostgreSQL parses and plans it once per connection instead of on every call (the pool's
 * `Client` option). Statements with no parameters, with a name of their own, or passed as query
 * objects, go through untouched. A statement whose Parse fails is not remembered by pg, so a
 * text that failed once is prepared again next time. Statements name their columns (no
 * `SELECT *` from a table; statement-columns.spec.ts checks): PostgreSQL re-plans a prepared
 * statement after a migration, but refuses one whose result columns would change.
 */
export class PreparingClient extends Client {
  // pg's own signature is a set of overloads; this one forwards whatever it is given.
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    const forward = super.query.bind(this) as (
      config: unknown,
      values?: unknown,
      callback?: unknown,
    ) => never;
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      const name = processNames.nameOf(config);
      if (name !== undefined) {
        const named: QueryConfig = { name, text: config, values: values as unknown[] };
        return forward(named, callback);
      }
    }
    return forward(config, values, callback);
  }
}

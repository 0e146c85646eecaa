import { DomainError } from 'src/common/domain-error';
import { isUuid } from 'src/common/uuid';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export class InvalidCursorError extends DomainError {
  constructor() {
    super('invalid', 'cursor is not valid (use the nextCursor of a previous page)');
  }
}

/** One page of a list: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An opaque cursor for keyset pagination: the sort key and id of the last item, base64url. */
export function encodeCursor(key: string | null, id: string): string {
  return Buffer.from(JSON.stringify([key, id]), 'utf8').toString('base64url');
}

/** A sort key made by isoMicros(). */
export const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * The (sort key, id) a cursor holds; InvalidCursorError when it was not made by encodeCursor,
 * its id is not a UUID, or its key does not match `keyPattern`.
 */
export function decodeCursor(
  cursor: string,
  keyPattern?: RegExp,
): { key: string | null; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    (parsed[0] !== null && typeof parsed[0] !== 'string') ||
    typeof parsed[1] !== 'string' ||
    !isUuid(parsed[1]) ||
    (keyPattern !== undefined && typeof parsed[0] === 'string' && !keyPattern.test(parsed[0]))
  ) {
    throw new InvalidCursorError();
  }
  return { key: parsed[0] as string | null, id: parsed[1] };
}

/** Rows fetched with `limit + 1`: the page, and the cursor of its last item when more follow. */
export function pageOf<Row, T>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => T,
  cursorOf: (row: Row) => string,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return {
    items: kept.map(toItem),
    nextCursor: more && kept.length > 0 ? cursorOf(kept[kept.length - 1]) : null,
  };
}

/** SQL of a timestamptz as UTC ISO-8601 with microseconds: exact enough to be a keyset bound. */
export function isoMicros(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

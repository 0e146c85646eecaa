/**
 * Keyset paging over rows ordered by a timestamp and then a uuid `id`: a page is read with
 * `WHERE (ts, id) > ($at::timestamptz, $id::uuid) ORDER BY ts, id LIMIT n`, the timestamp selected
 * as text (`ts::text AS at`) so that the next page's key keeps PostgreSQL's microseconds.
 */
export interface PageKey {
  readonly at: string;
  readonly id: string;
}

/** Sorts before every row: where the first page starts. */
export const FIRST_PAGE: PageKey = { at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };

/** Where the page after `rows` (read with LIMIT `limit`) starts: the first again after the last. */
export function pageAfter(rows: readonly PageKey[], limit: number): PageKey {
  const last = rows[rows.length - 1];
  return rows.length < limit || last === undefined ? FIRST_PAGE : { at: last.at, id: last.id };
}

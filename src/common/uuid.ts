const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID as PostgreSQL's `uuid` type accepts it (any version). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

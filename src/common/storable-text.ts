/**
 * The string as PostgreSQL can store it, in text and in jsonb: JSON may carry U+0000 (dropped:
 * it carries nothing a reader would miss) and lone surrogates, such as half of an emoji cut off
 * (each becomes U+FFFD).
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').toWellFormed();
}

/** JSON escapes that may stand for U+0000 or for half of a surrogate pair. */
const SUSPECT_ESCAPE = /\\u(0000|d[89a-f])/i;

/** Whether JSON text may hold a string that `storableText` would change (a cheap first look). */
export function mayHoldUnstorableText(json: string): boolean {
  return SUSPECT_ESCAPE.test(json);
}

/** Whether every string of a parsed JSON value, keys included, is stored as it is. */
export function holdsOnlyStorableText(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('\u0000') && value.isWellFormed();
  if (Array.isArray(value)) return value.every(holdsOnlyStorableText);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(
      ([key, field]) => holdsOnlyStorableText(key) && holdsOnlyStorableText(field),
    );
  }
  return true;
}

/** JSON.parse, with every string of the value made storable (`storableText`). */
export function parseStorableJson(json: string): unknown {
  return mayHoldUnstorableText(json)
    ? JSON.parse(json, (_key, value: unknown) =>
        typeof value === 'string' ? storableText(value) : value,
      )
    : JSON.parse(json);
}

/**
 * The string as PostgreSQL can store it, in text and in jsonb: JSON may carry U+0000 (dropped:
 * it carries nothing a reader would miss) and lone surrogates, such as half of an emoji cut off
 * (each becomes U+FFFD).
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').toWellFormed();
}

import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * Checks `X-Hub-Signature-256: sha256=<64 lowercase hex>` against the HMAC-SHA256 of the raw body
 * bytes under any of the accepted secrets, in constant time.
 */
export function isValidMetaSignature(
  rawBody: Buffer,
  header: string | string[] | undefined,
  secrets: readonly string[],
): boolean {
  if (typeof header !== 'string' || !SIGNATURE.test(header)) return false;
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Every secret is tried, so the time taken does not tell which one matched.
    valid = timingSafeEqual(expected, given) || valid;
  }
  return valid;
}

/** The header value Meta would send for this body. */
export function metaSignature(rawBody: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

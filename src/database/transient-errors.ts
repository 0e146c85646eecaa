/**
 * SQLSTATE classes and codes of errors that say nothing about the work itself: the server or the
 * connection was away, busy, or a transaction lost a race. Retried later, the same work succeeds.
 */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57P0'];
const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization failure
  '40P01', // deadlock
  '55P03', // lock not available
  '25006', // read-only transaction (a failover in progress)
]);
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /is not currently accepting connections/i, // a database closed to connections (SQLSTATE 55000)
  /connection is closed/i,
  /max retries per request/i,
  /stream isn't writeable/i, // ioredis, Redis away and no offline queue
];

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, driverError } = error as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string') return code;
  return driverError === undefined ? undefined : codeOf(driverError);
}

/**
 * Whether an error is the storage's (PostgreSQL's or Redis's) being away or busy, not the work's:
 * such a failure must leave the work to be tried again, never record it as failed for good.
 */
export function isTransientStorageError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code)) return true;
    if (
      /^[0-9A-Z]{5}$/.test(code) &&
      TRANSIENT_SQLSTATE_CLASSES.some((prefix) => code.startsWith(prefix))
    ) {
      return true;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return TRANSIENT_MESSAGES.some((pattern) => pattern.test(message));
}

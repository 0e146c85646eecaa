import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two strings of any length (both are hashed to the same size first). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

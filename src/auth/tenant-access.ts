import { NotFoundException } from '@nestjs/common';
import type { Principal } from 'src/auth/principal';

/** Whether the caller may act on this merchant: an admin on any, a merchant on its own only. */
export function canAccessMerchant(principal: Principal, merchantId: string): boolean {
  return principal.role === 'admin' || principal.merchantId === merchantId.toLowerCase();
}

/**
 * Throws 404 (never 403) when the caller may not act on this merchant, so a merchant cannot tell
 * another merchant's id from one that does not exist.
 */
export function assertMerchantAccess(principal: Principal, merchantId: string): void {
  if (!canAccessMerchant(principal, merchantId)) throw new NotFoundException('merchant not found');
}

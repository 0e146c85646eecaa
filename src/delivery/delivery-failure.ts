/**
 * How a send failed, in the terms delivery acts on:
 * - `transient`: not accepted, try again later (after `retryAfterMs` when the provider said so);
 * - `permanent`: not accepted and never will be as it is (window closed, blocked, bad request);
 * - `reauth`: the merchant's Instagram token was refused (190): a person must connect again;
 * - `unknown_outcome`: the request may have reached the provider, the answer was lost.
 */
export type FailureKind = 'transient' | 'permanent' | 'reauth' | 'unknown_outcome';

export class DeliveryFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    /** Short reason kept on the message (`window_closed`, `recipient_unavailable`, …). */
    readonly reason: string,
    detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(detail);
    this.name = 'DeliveryFailure';
  }

  /** What `delivery_error` holds: the reason, then the provider's code and words. */
  get record(): string {
    return `${this.reason}: ${this.message}`.slice(0, 500);
  }
}

/**
 * A failed HTTP call: whether the request can have reached the server. A refused or unresolvable
 * connection never sent a byte; a timeout or a reset may have been processed by the other side.
 * The socket's error code is on the error itself (undici's `request`) or on its cause (`fetch`).
 */
export function requestMayHaveArrived(error: unknown): boolean {
  const failed = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = [failed?.code, failed?.cause?.code].find((value) => typeof value === 'string');
  return !(code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN');
}

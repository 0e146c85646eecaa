/** Timings of delivery that are not operator settings (fixed by the providers' behaviour). */
export interface DeliverySettings {
  /**
   * How long a part whose send outcome was lost waits for Meta's echo before it is sent again.
   * Shorter than the two minutes in which an echo is matched to a send by its text.
   */
  reconcileWaitMs: number;
  /** How often a waiting message looks again for the echo that settles it. */
  reconcilePollMs: number;
  /** How often the deliveries of a merchant that must re-authorise are looked at again. */
  reauthRecheckMs: number;
  /** One provider call's limit; past it the outcome is unknown. */
  sendTimeoutMs: number;
  /** Private replies to comments per merchant in any hour (Meta: 750 calls an hour, §7). */
  privateRepliesPerHour: number;
  /**
   * How long all of a merchant's sends through the Send API wait after Meta throttled one (codes
   * 4, 17, 32, 613, 80002, 80006) without saying for how long; Meta's own wait, when it gives
   * one, is used instead.
   */
  throttlePauseMs: number;
}

export const DELIVERY_SETTINGS = Symbol('DeliverySettings');

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  reconcileWaitMs: 30_000,
  reconcilePollMs: 2_000,
  reauthRecheckMs: 5 * 60_000,
  sendTimeoutMs: 10_000,
  privateRepliesPerHour: 750,
  throttlePauseMs: 60_000,
};

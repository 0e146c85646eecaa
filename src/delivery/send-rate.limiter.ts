import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import { DELIVERY_SETTINGS, type DeliverySettings } from 'src/delivery/delivery-settings';
import { RedisService } from 'src/redis/redis.service';

const WINDOW_MS = 1_000;
/**
 * Added to the window: a request reaches the provider a little after its slot is taken, by a
 * varying amount (the parts' `sending` mark in PostgreSQL, a busy event loop, a slow connection);
 * the margin keeps the provider's own count of any second within the limit while that delay
 * varies by less than the margin (at the cost of over a quarter of the rate: SEND_RATE_PER_MERCHANT
 * is well below Meta's limit anyway). 250 ms was once exceeded in a test, with two workers in one
 * process: the delay varied by up to 211 ms on a quiet machine.
 */
const SPREAD_MARGIN_MS = 400;
/** A merchant paused for longer than this: the caller puts the job aside instead of waiting. */
export const MAX_INLINE_WAIT_MS = 2_000;
/**
 * The share of a process's delivery slots (DELIVERY_CONCURRENCY) that one merchant's jobs may hold
 * on their way to a send slot: more would leave other merchants' replies queued behind a merchant
 * that is past its rate. At least one.
 */
const MERCHANT_SHARE_OF_SLOTS = 0.25;
/** ManyChat's documented limit of `/fb/sending/sendContent`, per API key. */
export const MANYCHAT_SEND_RATE = 25;

/**
 * TAKE_SLOT as a command of the connection: sent by its SHA-1 (EVALSHA), with its text only when
 * Redis does not know it (a restarted or flushed Redis), instead of its text on every call.
 */
interface SlotScript {
  raddTakeSendSlot(keys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** What a delivery job should do instead of waiting: go back to the queue for `ms`, and why. */
export interface SetAside {
  ms: number;
  why: string;
}

/** A second budget a send draws on besides the merchant's own: the ManyChat API key it uses. */
export interface SendBucket {
  apiKey: string;
  limit: number;
}

/**
 * Sliding-window logs in one Lua script (atomic across every worker process): for each budget
 * (the merchant's; the ManyChat API key's; the merchant's private replies of the hour), the times
 * of the grants of its window, in a sorted set. A slot is granted when every budget has fewer than
 * its limit in its window and its latest grant is at least its `spacing` ago (sends are spread
 * over the second instead of leaving in one burst); it is then taken from every budget at once.
 * Else the answer is the longest wait. A merchant Meta asked to slow down is paused by a key with
 * that lifetime. Returns 0 (granted), a positive wait, or minus the pause left.
 * KEYS: paused, then one log per budget. ARGV: member, then window, limit and spacing per budget.
 */
const TAKE_SLOT = `
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return -paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i = 2, #KEYS do
  local at = 3 * i - 4
  local window, limit, spacing = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
  local latest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  if latest[2] then wait = math.max(wait, tonumber(latest[2]) + spacing - now) end
end
if wait > 0 then return wait end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3 * i - 4]))
end
return 0
`;

/** One budget of a send: its log, its window, its limit in the window and the spacing of grants. */
interface Budget {
  key: string;
  windowMs: number;
  limit: number;
  spacingMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * SEND_RATE_PER_MERCHANT provider calls per second per merchant (Meta's budget of the Instagram
 * account), at most `bucket.limit` per ManyChat API key (a key may serve several merchants), and
 * at most `privateRepliesPerHour` private replies per merchant in any hour (set aside past it),
 * shared by every worker process through Redis. (rate-limiter-flexible's Redis limiter counts fixed windows, which let twice the
 * limit through across a window boundary; BullMQ's per-group limiter is a paid feature.)
 *
 * A merchant's jobs wait for their slots in turn: a process lets a quarter of its delivery slots
 * (at least one) hold jobs of one merchant between `admit` and their send slot, and sets the
 * others aside, due back one send interval apart, so that a merchant's backlog never takes every
 * delivery slot from the others.
 */
@Injectable()
export class SendRateLimiter {
  private readonly limit: number;
  /** The merchant's budget spread evenly: one send per this many ms. */
  private readonly interval: number;
  private readonly instance = randomBytes(6).toString('hex');
  private sequence = 0;
  /** Jobs of one merchant that may be on their way to a send slot in this process. */
  private readonly perMerchant: number;
  /** Per merchant: this process's jobs admitted and not yet past their send slot. */
  private readonly waiting = new Map<string, number>();
  /** Per merchant: when the last job this process set aside is due back. */
  private readonly lastDue = new Map<string, number>();
  private readonly script: SlotScript;

  constructor(
    private readonly redis: RedisService,
    @Inject(behaviourConfig.KEY) behaviour: BehaviourConfig,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
  ) {
    redis.client.defineCommand('raddTakeSendSlot', { lua: TAKE_SLOT });
    this.script = redis.client as unknown as SlotScript;
    this.limit = behaviour.sendRatePerMerchant;
    this.interval = Math.ceil((WINDOW_MS + SPREAD_MARGIN_MS) / this.limit);
    this.perMerchant = Math.max(
      1,
      Math.floor(behaviour.deliveryConcurrency * MERCHANT_SHARE_OF_SLOTS),
    );
  }

  /**
   * A job of the merchant on its way to a send slot. Null: it may go ahead, and calls `leave` once
   * it has its slot, is set aside, or ends without one. Else how long to set it aside: as many of
   * the merchant's jobs as may be on their way already are.
   */
  admit(merchantId: string): SetAside | null {
    return this.tryAdmit(merchantId) ? null : this.setAside(merchantId);
  }

  /** Admits a job of the merchant if there is room now, else leaves it be (nothing set aside). */
  tryAdmit(merchantId: string): boolean {
    const waiting = this.waiting.get(merchantId) ?? 0;
    if (waiting >= this.perMerchant) return false;
    this.waiting.set(merchantId, waiting + 1);
    return true;
  }

  /** An admitted job of the merchant is past its send slot, or gave up on it. */
  leave(merchantId: string): void {
    const left = (this.waiting.get(merchantId) ?? 1) - 1;
    if (left > 0) this.waiting.set(merchantId, left);
    else this.waiting.delete(merchantId);
  }

  /**
   * Takes one send slot of the merchant, waiting for it. Returns null once taken; or, with no
   * slot taken, how long to set the job aside: the merchant is paused for longer than
   * MAX_INLINE_WAIT_MS.
   */
  async acquire(
    merchantId: string,
    bucket?: SendBucket,
    privateReply = false,
  ): Promise<SetAside | null> {
    const budgets: Budget[] = [
      this.perSecond(this.redis.key('delivery', 'rate', merchantId), this.limit),
    ];
    if (bucket) {
      const digest = createHash('sha256').update(bucket.apiKey).digest('hex').slice(0, 24);
      budgets.push(this.perSecond(this.redis.key('delivery', 'rate', 'key', digest), bucket.limit));
    }
    if (privateReply) {
      budgets.push({
        key: this.redis.key('delivery', 'rate', 'private-replies', merchantId),
        windowMs: HOUR_MS,
        limit: this.settings.privateRepliesPerHour,
        spacingMs: 0,
      });
    }
    for (;;) {
      const answer = await this.take(this.redis.key('delivery', 'paused', merchantId), budgets);
      if (answer === 0) return null;
      if (answer < 0 && -answer > MAX_INLINE_WAIT_MS) {
        return { ms: -answer, why: 'paused: Meta asked to slow down' };
      }
      // Only the hour's private replies make a wait this long.
      if (answer > MAX_INLINE_WAIT_MS) {
        return { ms: answer, why: "waiting: the merchant's private replies of the hour are used" };
      }
      await sleep(Math.abs(answer) + Math.floor(Math.random() * 5));
    }
  }

  /** A budget of `limit` sends a second, spread over the second. */
  private perSecond(key: string, limit: number): Budget {
    return {
      key,
      windowMs: WINDOW_MS + SPREAD_MARGIN_MS,
      limit,
      spacingMs: Math.floor(WINDOW_MS / limit),
    };
  }

  /**
   * Sets a job aside until one send interval after the merchant's previous set-aside job (and at
   * least one from now), so that they come back in turn rather than all at once.
   */
  private setAside(merchantId: string): SetAside {
    const now = Date.now();
    const due = Math.max(now, this.lastDue.get(merchantId) ?? 0) + this.interval;
    this.lastDue.set(merchantId, due);
    return { ms: due - now, why: 'waiting: earlier replies of the merchant wait for send slots' };
  }

  /** Holds back every send of the merchant for `ms` (Meta asked to wait). */
  async pause(merchantId: string, ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.redis.client
      .set(this.redis.key('delivery', 'paused', merchantId), '1', 'PX', Math.ceil(ms))
      .catch(() => undefined);
  }

  private async take(pausedKey: string, budgets: readonly Budget[]): Promise<number> {
    this.sequence += 1;
    try {
      const answer = await this.script.raddTakeSendSlot(
        1 + budgets.length,
        pausedKey,
        ...budgets.map((budget) => budget.key),
        `${this.instance}:${this.sequence}`,
        ...budgets.flatMap((budget) => [budget.windowMs, budget.limit, budget.spacingMs]),
      );
      return Number(answer);
    } catch (error) {
      throw new DeliveryFailure(
        'transient',
        'rate_limiter_unavailable',
        `the send rate cannot be checked: ${(error as Error).message}`,
      );
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

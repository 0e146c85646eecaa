import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import { RedisService } from 'src/redis/redis.service';

const WINDOW_MS = 1_000;
/**
 * Added to the window: a request reaches the provider a little after its slot is taken, by a
 * varying amount (a busy event loop, a slow connection); the margin keeps the provider's own count
 * of any second within the limit while that delay varies by less than the margin (at the cost of
 * a fifth of the rate: SEND_RATE_PER_MERCHANT is well below Meta's limit anyway).
 */
const SPREAD_MARGIN_MS = 250;
/** A merchant paused for longer than this: the caller puts the job aside instead of waiting. */
export const MAX_INLINE_WAIT_MS = 2_000;
/** ManyChat's documented limit of `/fb/sending/sendContent`, per API key. */
export const MANYCHAT_SEND_RATE = 25;

/** A second budget a send draws on besides the merchant's own: the ManyChat API key it uses. */
export interface SendBucket {
  apiKey: string;
  limit: number;
}

/**
 * Sliding-window logs in one Lua script (atomic across every worker process): for each budget
 * (the merchant's; the ManyChat API key's), the times of the grants of the last window, in a
 * sorted set. A slot is granted when every budget has fewer than its limit in the window and its
 * latest grant is at least its `spacing` ago (sends are spread over the second instead of leaving
 * in one burst); it is then taken from every budget at once. Else the answer is the longest wait.
 * A merchant Meta asked to slow down is paused by a key with that lifetime. Returns 0 (granted),
 * a positive wait, or minus the pause left.
 * KEYS: paused, then one log per budget. ARGV: window, member, then limit and spacing per budget.
 */
const TAKE_SLOT = `
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return -paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i = 2, #KEYS do
  local limit, spacing = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
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
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], window)
end
return 0
`;

/**
 * SEND_RATE_PER_MERCHANT provider calls per second per merchant (Meta's budget of the Instagram
 * account), and at most `bucket.limit` per ManyChat API key (a key may serve several merchants),
 * shared by every worker process through Redis. (rate-limiter-flexible's Redis limiter counts fixed windows, which let twice the
 * limit through across a window boundary; BullMQ's per-group limiter is a paid feature.)
 */
@Injectable()
export class SendRateLimiter {
  private readonly limit: number;
  private readonly instance = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(
    private readonly redis: RedisService,
    @Inject(behaviourConfig.KEY) behaviour: BehaviourConfig,
  ) {
    this.limit = behaviour.sendRatePerMerchant;
  }

  /**
   * Takes one send slot of the merchant, waiting for it. Returns 0 once taken, or how long the
   * merchant stays paused when that is longer than MAX_INLINE_WAIT_MS (no slot is taken then).
   */
  async acquire(merchantId: string, bucket?: SendBucket): Promise<number> {
    const budgets: Array<{ key: string; limit: number }> = [
      { key: this.redis.key('delivery', 'rate', merchantId), limit: this.limit },
    ];
    if (bucket) {
      const digest = createHash('sha256').update(bucket.apiKey).digest('hex').slice(0, 24);
      budgets.push({ key: this.redis.key('delivery', 'rate', 'key', digest), limit: bucket.limit });
    }
    for (;;) {
      const answer = await this.take(this.redis.key('delivery', 'paused', merchantId), budgets);
      if (answer === 0) return 0;
      if (answer < 0 && -answer > MAX_INLINE_WAIT_MS) return -answer;
      await sleep(Math.abs(answer) + Math.floor(Math.random() * 5));
    }
  }

  /** Holds back every send of the merchant for `ms` (Meta asked to wait). */
  async pause(merchantId: string, ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.redis.client
      .set(this.redis.key('delivery', 'paused', merchantId), '1', 'PX', Math.ceil(ms))
      .catch(() => undefined);
  }

  private async take(
    pausedKey: string,
    budgets: ReadonlyArray<{ key: string; limit: number }>,
  ): Promise<number> {
    this.sequence += 1;
    try {
      const answer = await this.redis.client.eval(
        TAKE_SLOT,
        1 + budgets.length,
        pausedKey,
        ...budgets.map((budget) => budget.key),
        WINDOW_MS + SPREAD_MARGIN_MS,
        `${this.instance}:${this.sequence}`,
        ...budgets.flatMap((budget) => [budget.limit, Math.floor(WINDOW_MS / budget.limit)]),
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

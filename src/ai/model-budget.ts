import { Inject, Injectable, Logger } from '@nestjs/common';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { RedisService } from 'src/redis/redis.service';

/** A day's count outlives its day by this much (a late increment still expires). */
const KEEP_SECONDS = 2 * 24 * 3600;

/**
 * AI_DAILY_TOKENS_PER_MERCHANT: the model tokens (prompt and answer) a merchant may use in a UTC
 * day, counted in Redis across every worker. Past it the merchant's customers are answered by the
 * offline replier until the day ends, so that one shop's flood of messages (anyone can DM an
 * account) cannot spend without limit or take the model from the others. A turn is checked when
 * it starts and runs whole, and its tokens are counted when its calls answer: the turns already
 * running when the cap is reached (up to AI_CONCURRENCY per worker, each up to three calls) still
 * count, so a day's count can pass the cap by that much. While Redis is away, calls are allowed:
 * the count is a budget, not a lock.
 */
@Injectable()
export class ModelBudget {
  private readonly logger = new Logger(ModelBudget.name);
  private readonly cap: number;
  /** Merchants told about today, so the log says it once a day each (in this process). */
  private readonly told = new Set<string>();

  constructor(
    private readonly redis: RedisService,
    @Inject(behaviourConfig.KEY) behaviour: BehaviourConfig,
  ) {
    this.cap = behaviour.aiDailyTokensPerMerchant;
  }

  /** Whether the merchant may call the model now. */
  async allows(merchantId: string, now = new Date()): Promise<boolean> {
    if (this.cap === 0) return true;
    const key = this.key(merchantId, now);
    const used = Number((await this.redis.client.get(key).catch(() => null)) ?? 0);
    if (used < this.cap) return true;
    if (!this.told.has(key)) {
      if (this.told.size > 10_000) this.told.clear();
      this.told.add(key);
      this.logger.warn(
        { merchantId, used, cap: this.cap },
        "the merchant's model tokens of the day are used: offline replies until the day ends",
      );
    }
    return false;
  }

  /** Counts a call's tokens against the merchant's day. */
  async spend(merchantId: string, tokens: number, now = new Date()): Promise<void> {
    if (this.cap === 0 || tokens <= 0) return;
    const key = this.key(merchantId, now);
    await this.redis.client
      .multi()
      .incrby(key, Math.round(tokens))
      .expire(key, KEEP_SECONDS)
      .exec()
      .catch(() => undefined);
  }

  private key(merchantId: string, now: Date): string {
    return this.redis.key('ai-tokens', merchantId, now.toISOString().slice(0, 10));
  }
}

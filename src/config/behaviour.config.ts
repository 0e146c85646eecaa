import { registerAs } from '@nestjs/config';
import { readEnvironment } from 'src/config/env';

/** How the bot paces and holds back its answers and sends. */
export const behaviourConfig = registerAs('behaviour', () => {
  const env = readEnvironment();
  return {
    aiDebounceMs: env.AI_DEBOUNCE_MS,
    botPauseOnHumanMinutes: env.BOT_PAUSE_ON_HUMAN_MINUTES,
    sendRatePerMerchant: env.SEND_RATE_PER_MERCHANT,
    deliveryConcurrency: env.DELIVERY_CONCURRENCY,
    aiConcurrency: env.AI_CONCURRENCY,
    aiDailyTokensPerMerchant: env.AI_DAILY_TOKENS_PER_MERCHANT,
  };
});
export type BehaviourConfig = ReturnType<typeof behaviourConfig>;

import { registerAs } from '@nestjs/config';
import { readEnvironment } from 'src/config/env';

export const metaConfig = registerAs('meta', () => {
  const env = readEnvironment();
  return {
    /** Keys accepted for X-Hub-Signature-256 (Meta app secret, then Instagram app secret). */
    signingSecrets: [env.META_APP_SECRET, env.IG_APP_SECRET].filter(
      (secret): secret is string => secret !== undefined,
    ),
    verifyToken: env.IG_VERIFY_TOKEN ?? '',
    igAppId: env.IG_APP_ID,
    graphApiBaseUrl: env.GRAPH_API_BASE_URL,
    instagramApiBaseUrl: env.INSTAGRAM_API_BASE_URL,
    graphApiVersion: env.GRAPH_API_VERSION,
  };
});
export type MetaConfig = ReturnType<typeof metaConfig>;

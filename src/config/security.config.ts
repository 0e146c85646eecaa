import { registerAs } from '@nestjs/config';
import { decodeKey, readEnvironment } from 'src/config/env';

export const securityConfig = registerAs('security', () => {
  const env = readEnvironment();
  // readEnvironment has already refused a missing or malformed key.
  const encryptionKey = decodeKey(env.ENCRYPTION_KEY ?? '') ?? Buffer.alloc(0);
  const previous = env.ENCRYPTION_KEY_PREVIOUS ? decodeKey(env.ENCRYPTION_KEY_PREVIOUS) : null;
  return {
    encryptionKey,
    encryptionKeyPrevious: previous ?? undefined,
    jwtSecret: env.JWT_SECRET ?? '',
    apiRateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
    bullBoard:
      env.BULL_BOARD_USER && env.BULL_BOARD_PASSWORD
        ? { user: env.BULL_BOARD_USER, password: env.BULL_BOARD_PASSWORD }
        : undefined,
  };
});
export type SecurityConfig = ReturnType<typeof securityConfig>;

import { registerAs } from '@nestjs/config';
import { decodeKey, readEnvironment, type Environment } from 'src/config/env';

/** Security settings of an environment (also used by the CLI, which reads fewer settings). */
export function securitySettings(env: Environment) {
  // readEnvironment has already refused a malformed key; a missing one leaves an empty buffer.
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
}

export const securityConfig = registerAs('security', () => securitySettings(readEnvironment()));
export type SecurityConfig = ReturnType<typeof securityConfig>;

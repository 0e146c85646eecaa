import { createHash } from 'node:crypto';

/**
 * Settings of `npm run sandbox`. The secrets are public on purpose: they guard nothing but a local
 * sandbox, and a production start refuses to run with any of them.
 */
export const SANDBOX_SECRETS = {
  META_APP_SECRET: 'radd-sandbox-meta-app-secret',
  IG_VERIFY_TOKEN: 'radd-sandbox-verify-token',
  ENCRYPTION_KEY: createHash('sha256').update('radd-sandbox-encryption-key').digest('hex'),
  JWT_SECRET: 'radd-sandbox-jwt-secret',
} as const;

export const SANDBOX_SETTINGS: Record<string, string> = {
  ...SANDBOX_SECRETS,
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/radd_sandbox',
  REDIS_PREFIX: 'radd-sandbox',
  APP_ROLE: 'all',
  HOST: '127.0.0.1',
  AI_DEBOUNCE_MS: '1200',
  LOG_LEVEL: 'warn',
};

/** Names of the settings whose sandbox value a production process must not run with. */
export function sandboxSecretsIn(
  values: Partial<Record<keyof typeof SANDBOX_SECRETS, string>>,
): string[] {
  return Object.entries(SANDBOX_SECRETS)
    .filter(([key, value]) => values[key as keyof typeof SANDBOX_SECRETS] === value)
    .map(([key]) => key);
}

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createApp, type CreateAppOptions } from 'src/bootstrap';

/** A closed port: any outside API a test forgot to fake fails at once instead of leaving the box. */
export const NOWHERE = 'http://127.0.0.1:9';

export const TEST_SECRETS = {
  META_APP_SECRET: 'e2e-meta-app-secret',
  IG_APP_SECRET: 'e2e-instagram-app-secret',
  IG_VERIFY_TOKEN: 'e2e-verify-token',
  ENCRYPTION_KEY: 'a3'.repeat(32),
  JWT_SECRET: 'e2e-jwt-secret-at-least-16-chars',
} as const;

export type EnvOverrides = Record<string, string | undefined>;

/** A Redis prefix unique to this test file, under the run's prefix (teardown deletes it). */
export function uniquePrefix(): string {
  return `e2e-${process.env.E2E_RUN_ID ?? 'local'}-${randomBytes(4).toString('hex')}`;
}

/** The environment this test file started with (the run's database and Redis). */
const baseline: EnvOverrides = { ...process.env };

/**
 * Resets the environment to the file's baseline plus the test defaults and `overrides`, so one
 * test's settings never leak into the next app; `undefined` in overrides unsets a variable.
 */
export function applyTestEnv(overrides: EnvOverrides = {}): void {
  for (const key of Object.keys(process.env)) {
    if (!(key in baseline)) delete process.env[key];
  }
  Object.assign(process.env, baseline);
  const values: EnvOverrides = {
    ...TEST_SECRETS,
    LOG_LEVEL: 'warn',
    REDIS_PREFIX: uniquePrefix(),
    GRAPH_API_BASE_URL: NOWHERE,
    INSTAGRAM_API_BASE_URL: NOWHERE,
    MANYCHAT_BASE_URL: NOWHERE,
    OPENAI_BASE_URL: NOWHERE,
    OPENAI_API_KEY: undefined,
    ...overrides,
  };
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

/** Boots the real application on a free loopback port. */
export async function startApp(
  overrides: EnvOverrides = {},
  options: CreateAppOptions = {},
): Promise<TestApp> {
  applyTestEnv(overrides);
  const app = await createApp(options);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

import { ConfigValidationError } from 'src/config/env';
import { createApp } from 'src/bootstrap';
import { applyTestEnv, startApp } from 'test/utils/app';

describe('start-up (e2e)', () => {
  it('refuses to start without required secrets, naming each one', async () => {
    applyTestEnv({ META_APP_SECRET: undefined, JWT_SECRET: undefined });
    const attempt = createApp();
    await expect(attempt).rejects.toBeInstanceOf(ConfigValidationError);
    await expect(attempt).rejects.toThrow(
      'Radd cannot start: missing required settings: META_APP_SECRET, JWT_SECRET. See .env.example.',
    );
  });

  it('refuses a malformed encryption key without echoing it', async () => {
    applyTestEnv({ ENCRYPTION_KEY: 'hunter2-is-not-a-key' });
    const error = (await createApp().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error.message).toContain(
      'ENCRYPTION_KEY must be 64 hex characters or base64 of 32 bytes',
    );
    expect(error.message).not.toContain('hunter2');
  });

  it('starts with a base64 encryption key and serves', async () => {
    const radd = await startApp({ ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') });
    try {
      expect((await fetch(`${radd.url}/health/live`)).status).toBe(200);
    } finally {
      await radd.close();
    }
  });
});

import {
  ConfigValidationError,
  decodeKey,
  readEnvironment,
  REQUIRED_SETTINGS,
} from 'src/config/env';

const secrets = {
  META_APP_SECRET: 'meta-secret-value',
  IG_VERIFY_TOKEN: 'verify-token-value',
  ENCRYPTION_KEY: 'ab'.repeat(32),
  JWT_SECRET: 'jwt-secret-value-long-enough',
};

function refusal(
  env: NodeJS.ProcessEnv,
  options?: { requireSecrets?: boolean },
): ConfigValidationError {
  try {
    readEnvironment(env, options);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error('the environment was accepted');
}

describe('readEnvironment', () => {
  it('takes any non-empty JWT_SECRET, short ones included', () => {
    expect(readEnvironment({ ...secrets, JWT_SECRET: 'test-secret' }).JWT_SECRET).toBe(
      'test-secret',
    );
  });

  it('applies the defaults of INTERFACE §2', () => {
    const env = readEnvironment({ ...secrets });
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      APP_ROLE: 'all',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/radd',
      REDIS_URL: 'redis://127.0.0.1:6379',
      GRAPH_API_BASE_URL: 'https://graph.facebook.com',
      INSTAGRAM_API_BASE_URL: 'https://graph.instagram.com',
      GRAPH_API_VERSION: 'v25.0',
      OPENAI_MODEL: 'gpt-4o-mini',
      MANYCHAT_BASE_URL: 'https://api.manychat.com',
      AI_DEBOUNCE_MS: 3000,
      AI_TIMEOUT_MS: 15000,
      BOT_PAUSE_ON_HUMAN_MINUTES: 60,
      SEND_RATE_PER_MERCHANT: 80,
      REDIS_PREFIX: 'radd',
      OUTBOX_SWEEP_MS: 15000,
      WEBHOOK_RETENTION_DAYS: 30,
      API_RATE_LIMIT_PER_MINUTE: 600,
      WORKER_HEALTH_PORT: 3001,
      LOG_LEVEL: 'info',
    });
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.BULL_BOARD_USER).toBeUndefined();
  });

  it('names every missing required setting in one message', () => {
    const error = refusal({});
    expect(error.missing).toEqual([...REQUIRED_SETTINGS]);
    for (const key of REQUIRED_SETTINGS) expect(error.message).toContain(key);
  });

  it('treats empty and blank values as unset', () => {
    const error = refusal({ ...secrets, JWT_SECRET: '   ', META_APP_SECRET: '' });
    expect(error.missing).toEqual(['META_APP_SECRET', 'JWT_SECRET']);
  });

  it('reports missing and invalid settings together, without their values', () => {
    const error = refusal({
      ...secrets,
      IG_VERIFY_TOKEN: undefined,
      PORT: 'eighty',
      APP_ROLE: 'everything',
      ENCRYPTION_KEY: 'not-a-key-but-a-secret-value',
    });
    expect(error.missing).toEqual(['IG_VERIFY_TOKEN']);
    expect(error.message).toMatch(/PORT/);
    expect(error.message).toMatch(/APP_ROLE/);
    expect(error.message).toMatch(/ENCRYPTION_KEY must be 64 hex characters or base64 of 32 bytes/);
    expect(error.message).not.toContain('not-a-key-but-a-secret-value');
    expect(error.message).not.toContain('everything');
  });

  it('parses numbers and trims trailing slashes off base URLs', () => {
    const env = readEnvironment({
      ...secrets,
      PORT: '8080',
      AI_DEBOUNCE_MS: '0',
      GRAPH_API_BASE_URL: 'http://127.0.0.1:4000/',
    });
    expect(env.PORT).toBe(8080);
    expect(env.AI_DEBOUNCE_MS).toBe(0);
    expect(env.GRAPH_API_BASE_URL).toBe('http://127.0.0.1:4000');
  });

  it('refuses out-of-range numbers and foreign URL schemes', () => {
    const error = refusal({
      ...secrets,
      PORT: '70000',
      REDIS_URL: 'http://127.0.0.1:6379',
      LOG_LEVEL: 'loud',
    });
    expect(error.invalid.join(' ')).toMatch(/PORT/);
    expect(error.invalid.join(' ')).toMatch(/REDIS_URL/);
    expect(error.invalid.join(' ')).toMatch(/LOG_LEVEL/);
  });

  it('checks the previous encryption key too', () => {
    const error = refusal({ ...secrets, ENCRYPTION_KEY_PREVIOUS: 'short' });
    expect(error.invalid).toEqual([
      'ENCRYPTION_KEY_PREVIOUS must be 64 hex characters or base64 of 32 bytes',
    ]);
  });

  it("refuses the examples' CHANGE_ME placeholders as secrets, naming the setting only", () => {
    const error = refusal({
      ...secrets,
      JWT_SECRET: 'CHANGE_ME_AT_LEAST_16_CHARACTERS',
      META_APP_SECRET: 'CHANGE_ME',
      ENCRYPTION_KEY: 'CHANGE_ME_64_HEX_CHARACTERS',
      BULL_BOARD_PASSWORD: 'change-me',
    });
    expect(error.invalid).toEqual([
      "META_APP_SECRET still holds the example's placeholder; set a secret of your own",
      "ENCRYPTION_KEY still holds the example's placeholder; set a secret of your own",
      "JWT_SECRET still holds the example's placeholder; set a secret of your own",
      "BULL_BOARD_PASSWORD still holds the example's placeholder; set a secret of your own",
    ]);
    expect(error.message).not.toContain('AT_LEAST');
    expect(
      readEnvironment({ ...secrets, JWT_SECRET: 'a-secret-to-change-me-later' }).JWT_SECRET,
    ).toBe('a-secret-to-change-me-later');
  });

  it('lets tools that need no secret run without them', () => {
    expect(
      readEnvironment({ DATABASE_URL: 'postgres://x@db/radd' }, { requireSecrets: false })
        .DATABASE_URL,
    ).toBe('postgres://x@db/radd');
    expect(refusal({ DATABASE_URL: 'mysql://x' }, { requireSecrets: false }).missing).toEqual([]);
  });
});

describe('decodeKey', () => {
  it('accepts 64 hex characters and base64 of 32 bytes', () => {
    const bytes = Buffer.alloc(32, 7);
    expect(decodeKey(bytes.toString('hex'))).toEqual(bytes);
    expect(decodeKey(bytes.toString('base64'))).toEqual(bytes);
  });

  it('refuses other lengths and alphabets', () => {
    expect(decodeKey('ab'.repeat(31))).toBeNull();
    expect(decodeKey(Buffer.alloc(16).toString('base64'))).toBeNull();
    expect(decodeKey(Buffer.alloc(33).toString('base64'))).toBeNull();
    expect(decodeKey('zz'.repeat(32))).toBeNull();
  });
});

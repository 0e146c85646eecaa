import { SANDBOX_SECRETS, sandboxSecretsIn } from 'src/sandbox/settings';

describe('sandboxSecretsIn', () => {
  it('names every setting that holds its public sandbox value', () => {
    expect(sandboxSecretsIn({ ...SANDBOX_SECRETS })).toEqual(Object.keys(SANDBOX_SECRETS));
    expect(
      sandboxSecretsIn({
        META_APP_SECRET: SANDBOX_SECRETS.META_APP_SECRET,
        JWT_SECRET: 'a-real-secret-value',
      }),
    ).toEqual(['META_APP_SECRET']);
  });

  it('accepts secrets of one’s own', () => {
    expect(
      sandboxSecretsIn({
        META_APP_SECRET: 'x',
        IG_VERIFY_TOKEN: 'y',
        ENCRYPTION_KEY: 'ab'.repeat(32),
        JWT_SECRET: 'z',
      }),
    ).toEqual([]);
  });
});

import { CredentialCipher, CredentialDecryptionError, keyId } from 'src/merchant/credential-cipher';
import type { SecurityConfig } from 'src/config/security.config';

function cipher(key: Buffer, previous?: Buffer): CredentialCipher {
  const config: SecurityConfig = {
    encryptionKey: key,
    encryptionKeyPrevious: previous,
    jwtSecret: 'x'.repeat(16),
    apiRateLimitPerMinute: 600,
    bullBoard: undefined,
  };
  return new CredentialCipher(config);
}

describe('CredentialCipher', () => {
  const keyA = Buffer.alloc(32, 1);
  const keyB = Buffer.alloc(32, 2);
  const context = 'merchant:7b0c…:instagramAccessToken';

  it('round-trips and never stores the plaintext', () => {
    const sealed = cipher(keyA).encrypt('IGAAtoken-value', context);
    expect(sealed).not.toContain('IGAAtoken');
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed.split('.')[1]).toBe(keyId(keyA));
    expect(cipher(keyA).decrypt(sealed, context)).toBe('IGAAtoken-value');
  });

  it('uses a fresh IV for every value', () => {
    const c = cipher(keyA);
    expect(c.encrypt('same', context)).not.toBe(c.encrypt('same', context));
  });

  it('refuses a value moved to another owner or field', () => {
    const sealed = cipher(keyA).encrypt('secret', context);
    expect(() => cipher(keyA).decrypt(sealed, 'merchant:other:instagramAccessToken')).toThrow(
      CredentialDecryptionError,
    );
  });

  it('refuses a tampered value', () => {
    const parts = cipher(keyA).encrypt('secret', context).split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => cipher(keyA).decrypt(parts.join('.'), context)).toThrow(/authentication failed/);
  });

  it('reads values of the previous key during rotation and writes with the new one', () => {
    const old = cipher(keyA).encrypt('secret', context);
    const rotating = cipher(keyB, keyA);
    expect(rotating.decrypt(old, context)).toBe('secret');
    expect(rotating.isCurrent(old)).toBe(false);
    const renewed = rotating.encrypt('secret', context);
    expect(rotating.isCurrent(renewed)).toBe(true);
    expect(cipher(keyB).decrypt(renewed, context)).toBe('secret');
    expect(() => cipher(keyB).decrypt(old, context)).toThrow(/not configured/);
  });
});

import { createHmac } from 'node:crypto';
import { InvalidTokenError, TokenService } from 'src/auth/token.service';

const SECRET = 'unit-test-secret-of-some-length';
const MERCHANT = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';

function forge(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'HS256' },
) {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part(header)}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

function refusal(service: TokenService, token: string): string {
  try {
    service.verify(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.message;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('TokenService', () => {
  const tokens = new TokenService({ jwtSecret: SECRET });
  const later = () => Math.floor(Date.now() / 1000) + 600;

  it('issues HS256 tokens with sub, role, merchantId and exp, and verifies them', () => {
    const token = tokens.issue({
      role: 'merchant',
      sub: 'sara',
      merchantId: MERCHANT.toUpperCase(),
    });
    const [header, payload] = token
      .split('.')
      .map((part) => Buffer.from(part, 'base64url').toString());
    expect(JSON.parse(header)).toMatchObject({ alg: 'HS256' });
    const claims = JSON.parse(payload) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'sara', role: 'merchant', merchantId: MERCHANT });
    expect(claims.exp).toBe((claims.iat as number) + 3600);
    expect(tokens.verify(token)).toEqual({ sub: 'sara', role: 'merchant', merchantId: MERCHANT });
    expect(tokens.verify(tokens.issue({ role: 'admin', sub: 'ops' }))).toEqual({
      sub: 'ops',
      role: 'admin',
    });
  });

  it('drops a merchantId from admin tokens', () => {
    expect(
      tokens.verify(forge({ sub: 'ops', role: 'admin', merchantId: MERCHANT, exp: later() })),
    ).toEqual({
      sub: 'ops',
      role: 'admin',
    });
  });

  it.each([
    [
      'expired',
      forge({ sub: 'a', role: 'admin', exp: Math.floor(Date.now() / 1000) - 1 }),
      /expired/,
    ],
    ['without exp', forge({ sub: 'a', role: 'admin' }), /exp/],
    ['without sub', forge({ role: 'admin', exp: later() }), /sub/],
    ['with another role', forge({ sub: 'a', role: 'owner', exp: later() }), /admin or merchant/],
    [
      'a merchant token without merchantId',
      forge({ sub: 'a', role: 'merchant', exp: later() }),
      /merchantId/,
    ],
    [
      'a merchant token with a bad merchantId',
      forge({ sub: 'a', role: 'merchant', merchantId: '7', exp: later() }),
      /merchantId/,
    ],
    [
      'signed with HS512',
      forge({ sub: 'a', role: 'admin', exp: later() }, { alg: 'HS512' }),
      /invalid/,
    ],
    [
      'unsigned (alg none)',
      `${forge({ sub: 'a', role: 'admin', exp: later() }, { alg: 'none' }).split('.').slice(0, 2).join('.')}.`,
      /invalid/,
    ],
    [
      'signed with another key',
      new TokenService({ jwtSecret: 'another-secret-entirely' }).issue({ role: 'admin', sub: 'x' }),
      /invalid/,
    ],
    ['garbage', 'a.b.c', /invalid/],
    ['huge', 'a'.repeat(5000), /invalid/],
  ])('refuses a token %s', (_what, token, reason) => {
    expect(refusal(tokens, token)).toMatch(reason);
  });

  it('never works with an empty secret', () => {
    const unset = new TokenService({ jwtSecret: '' });
    expect(() => unset.issue({ role: 'admin', sub: 'x' })).toThrow(InvalidTokenError);
    expect(() => unset.verify(tokens.issue({ role: 'admin', sub: 'x' }))).toThrow(
      InvalidTokenError,
    );
  });

  it('refuses to issue what it would not accept', () => {
    expect(() => tokens.issue({ role: 'merchant', sub: 'x' })).toThrow(/merchantId/);
    expect(() => tokens.issue({ role: 'admin', sub: '' })).toThrow(/sub/);
    expect(() => tokens.issue({ role: 'admin', sub: 'x', ttlSeconds: 0 })).toThrow(/lifetime/);
  });
});

import pino from 'pino';
import { Writable } from 'node:stream';
import { REDACT_PATHS, REDACTED, redactUrl } from 'src/common/logging';

function capture(): { logger: pino.Logger; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    logger: pino({ redact: { paths: REDACT_PATHS, censor: REDACTED } }, stream),
    lines: () => chunks.join(''),
  };
}

describe('log redaction', () => {
  it('blanks authorization, signatures and the ManyChat secret in request headers', () => {
    const { logger, lines } = capture();
    logger.info({
      req: {
        headers: {
          authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
          'x-hub-signature-256': 'sha256=deadbeef',
          'x-radd-secret': 'inbound-secret-value',
          'user-agent': 'facebookexternalua',
        },
      },
    });
    const out = lines();
    expect(out).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(out).not.toContain('deadbeef');
    expect(out).not.toContain('inbound-secret-value');
    expect(out).toContain('facebookexternalua');
  });

  it('blanks credential fields at the first levels of logged objects', () => {
    const { logger, lines } = capture();
    logger.info({
      token: 'top-level-token',
      merchant: { instagramAccessToken: 'IGQVJ-secret', name: 'Shop' },
      job: { data: { manychatApiKey: 'mc-secret-key' } },
    });
    const out = lines();
    expect(out).not.toContain('top-level-token');
    expect(out).not.toContain('IGQVJ-secret');
    expect(out).not.toContain('mc-secret-key');
    expect(out).toContain('Shop');
  });
});

describe('failed statements in logs', () => {
  it('keep the statement and blank its values', () => {
    const { logger, lines } = capture();
    const failed = Object.assign(new Error('invalid input syntax for type json'), {
      query: 'INSERT INTO messages (text) VALUES ($1)',
      parameters: ['بيش القميص؟ رقمي 07701234567'],
    });
    logger.error({ err: failed }, 'unhandled error');
    const out = lines();
    expect(out).not.toContain('07701234567');
    expect(out).toContain('INSERT INTO messages');
    expect(out).toContain('invalid input syntax');
  });
});

describe('redactUrl', () => {
  it('blanks the verify token and other secret-like query values', () => {
    const url = '/webhooks/instagram?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=42';
    const redacted = redactUrl(url);
    expect(redacted).not.toContain('s3cret');
    expect(redacted).toContain('hub.mode=subscribe');
    expect(redacted.startsWith('/webhooks/instagram?')).toBe(true);
  });

  it('leaves URLs without secrets untouched', () => {
    expect(redactUrl('/api/merchants?limit=20&cursor=abc')).toBe(
      '/api/merchants?limit=20&cursor=abc',
    );
    expect(redactUrl('/health/ready')).toBe('/health/ready');
  });
});

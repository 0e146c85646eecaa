import Fastify from 'fastify';
import pino from 'pino';
import { QueryFailedError } from 'typeorm';
import { pinoHttp, type Options } from 'pino-http';
import { Writable } from 'node:stream';
import type { LogLevel } from 'src/config/env';
import {
  REDACT_PATHS,
  REDACTED,
  logRequestsByHook,
  loggerParams,
  redactUrl,
  requestId,
} from 'src/common/logging';

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

  it("blank PostgreSQL's detail and where, and the driver's error they come from", () => {
    const { logger, lines } = capture();
    const driverError = Object.assign(new Error('null value in column "name" violates not-null'), {
      code: '23502',
      detail: 'Failing row contains (bc1d…, sealed-credential-bytes, بيش القميص؟).',
      where: 'SQL function "f" statement 1: customer-text-here',
      table: 'merchants',
    });
    const failed = new QueryFailedError(
      'INSERT INTO merchants (name) VALUES ($1)',
      [],
      driverError,
    );
    logger.error({ err: failed }, 'unhandled error');
    const out = lines();
    expect(out).not.toContain('sealed-credential-bytes');
    expect(out).not.toContain('بيش القميص');
    expect(out).not.toContain('customer-text-here');
    expect(out).toContain('23502');
    expect(out).toContain('merchants');
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

interface RequestLine {
  msg: string;
  level: number;
  req?: { id?: string; method?: string; url?: string };
  res?: { statusCode?: number };
  err?: { message?: string };
  responseTime?: unknown;
}

/** The request logger's own logger, as the API builds it, writing into memory. */
function requestLogger(level: LogLevel): { logger: pino.Logger; lines: () => RequestLine[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const options = loggerParams(level, { api: true }).pinoHttp as Options;
  return {
    logger: pinoHttp(options, stream).logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as RequestLine),
  };
}

describe('request lines written by a hook', () => {
  async function serve(level: LogLevel): Promise<() => RequestLine[]> {
    const { logger, lines } = requestLogger(level);
    const app = Fastify({ genReqId: requestId });
    logRequestsByHook(
      app,
      () => logger,
      (request) => request.url.startsWith('/hooked'),
    );
    app.post('/hooked', () => 'EVENT_RECEIVED');
    app.post('/hooked/down', (_request, reply) => reply.code(503).send('retry later'));
    app.post('/other', () => 'ok');
    await app.ready();
    const headers = { 'x-request-id': 'trace-hook-1' };
    expect((await app.inject({ method: 'POST', url: '/hooked', headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/hooked/down' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'POST', url: '/other' })).statusCode).toBe(200);
    await app.close();
    return lines;
  }

  it('logs the picked requests with their ids as the request logger does, a 5xx as errored', async () => {
    const lines = (await serve('info'))();
    expect(lines.map((line) => [line.msg, line.req?.url, line.res?.statusCode])).toEqual([
      ['request completed', '/hooked', 200],
      ['request errored', '/hooked/down', 503],
    ]);
    expect(lines[0].req).toEqual(expect.objectContaining({ id: 'trace-hook-1', method: 'POST' }));
    expect(lines[1].req?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[1].err?.message).toBe('failed with status code 503');
    expect(lines.every((line) => typeof line.responseTime === 'number')).toBe(true);
  });

  it('writes nothing when the level is above info', async () => {
    expect((await serve('warn'))()).toEqual([]);
  });
});

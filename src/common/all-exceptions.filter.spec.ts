import {
  BadRequestException,
  HttpException,
  Logger,
  NotFoundException,
  type ArgumentsHost,
} from '@nestjs/common';
import { AllExceptionsFilter, errorBody } from 'src/common/all-exceptions.filter';
import { DomainError } from 'src/common/domain-error';

function hostCapturing(): { host: ArgumentsHost; sent: () => { status: number; body: unknown } } {
  let status = 0;
  let body: unknown;
  const reply = {
    status(code: number) {
      status = code;
      return reply;
    },
    send(payload: unknown) {
      body = payload;
      return reply;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
  return { host, sent: () => ({ status, body }) };
}

describe('AllExceptionsFilter', () => {
  const filter = new AllExceptionsFilter();
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it.each([
    [new NotFoundException('merchant not found'), 404, 'Not Found', 'merchant not found'],
    [
      new BadRequestException(['name must be a string', 'price must be an integer']),
      400,
      'Bad Request',
      'name must be a string; price must be an integer',
    ],
    [new HttpException('slow down', 429), 429, 'Too Many Requests', 'slow down'],
    [new DomainError('conflict', 'sku taken'), 409, 'Conflict', 'sku taken'],
    [new DomainError('not_found', 'merchant not found'), 404, 'Not Found', 'merchant not found'],
  ])('answers %s with the common shape', (exception, statusCode, error, message) => {
    const { host, sent } = hostCapturing();
    filter.catch(exception, host);
    expect(sent()).toEqual({ status: statusCode, body: { statusCode, error, message } });
  });

  it('hides the detail of unexpected errors', () => {
    const { host, sent } = hostCapturing();
    filter.catch(new Error('connection string postgres://user:pw@db'), host);
    expect(sent()).toEqual({
      status: 500,
      body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' },
    });
  });

  it('answers 503 when PostgreSQL or Redis is away, so that the caller retries', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const shutdown = Object.assign(
      new Error('terminating connection due to administrator command'),
      {
        code: '57P01',
      },
    );
    for (const exception of [
      refused,
      shutdown,
      new Error('Connection terminated unexpectedly'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ]) {
      const { host, sent } = hostCapturing();
      filter.catch(exception, host);
      expect(sent()).toEqual({
        status: 503,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'storage is unavailable, retry later',
        },
      });
    }
    // A statement's own error is not the storage's being away.
    const { host, sent } = hostCapturing();
    filter.catch(Object.assign(new Error('column "x" does not exist'), { code: '42703' }), host);
    expect(sent().status).toBe(500);
  });

  it('keeps the status of framework client errors', () => {
    const { host, sent } = hostCapturing();
    filter.catch(Object.assign(new Error('Request body is too large'), { statusCode: 413 }), host);
    expect(sent().body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is too large',
    });
  });
});

describe('errorBody', () => {
  it('falls back to the status text when there is no message', () => {
    expect(errorBody(503)).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Service Unavailable',
    });
  });
});

import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DOMAIN_ERROR_STATUS, DomainError } from 'src/common/domain-error';
import { isTransientStorageError } from 'src/database/transient-errors';

/** The one error shape of every HTTP answer (INTERFACE §3). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

export function errorBody(statusCode: number, message?: string | string[]): ErrorBody {
  const error = STATUS_CODES[statusCode] ?? 'Error';
  const text = Array.isArray(message) ? message.join('; ') : message;
  return { statusCode, error, message: text && text.length > 0 ? text : error };
}

function messageOf(exception: HttpException): string | string[] | undefined {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const { message } = response;
    if (typeof message === 'string') return message;
    if (Array.isArray(message)) return message.map(String);
  }
  return exception.message;
}

/**
 * Turns every exception into `{statusCode, error, message}`. PostgreSQL or Redis being away or busy
 * is answered 503, to be retried; other unexpected errors are logged with their stack and answered
 * 500 without detail.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let body: ErrorBody;
    if (exception instanceof HttpException && isReport(exception.getResponse())) {
      // A deliberate report body (Terminus' health result) is the answer itself.
      void reply.status(exception.getStatus()).send(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      body = errorBody(exception.getStatus(), messageOf(exception));
    } else if (exception instanceof DomainError) {
      body = errorBody(DOMAIN_ERROR_STATUS[exception.kind], exception.message);
    } else if (isClientError(exception)) {
      body = errorBody(exception.statusCode, exception.message);
    } else if (isTransientStorageError(exception)) {
      this.logger.warn(
        { err: exception instanceof Error ? exception.message : String(exception) },
        'storage unavailable; answered 503',
      );
      body = errorBody(HttpStatus.SERVICE_UNAVAILABLE, 'storage is unavailable, retry later');
    } else {
      this.logger.error({ err: exception }, 'unhandled error');
      body = errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
    }
    void reply.status(body.statusCode).send(body);
  }
}

function isReport(response: unknown): boolean {
  return typeof response === 'object' && response !== null && !('message' in response);
}

/** Fastify's own errors (body too large, bad JSON, …) carry a 4xx statusCode. */
export function isClientError(error: unknown): error is Error & { statusCode: number } {
  return (
    error instanceof Error &&
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  );
}

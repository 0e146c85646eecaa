import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { RequestMethod } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { LogLevel } from 'src/config/env';

/** Header of the request id: taken from the caller when well-formed, else made, and echoed back. */
export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SENSITIVE_PARAM = /token|secret|key|signature|password|challenge/i;

export const REDACTED = '[redacted]';

/** Field names whose values never reach a log line, at any of the first levels of an object. */
const SECRET_FIELDS = [
  'authorization',
  'password',
  'secret',
  'token',
  'accessToken',
  'access_token',
  'apiKey',
  'api_key',
  'instagramAccessToken',
  'manychatApiKey',
  'inboundSecret',
  'jwtSecret',
  'encryptionKey',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  'req.headers["x-radd-secret"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
  // The values of a failed statement (TypeORM's QueryFailedError): sealed credentials, what
  // customers wrote. The statement itself stays in the log. PostgreSQL's `detail` ("Failing row
  // contains (…)", "Key (…)=(…) already exists") and `where` quote values too, and the driver's
  // error, which the QueryFailedError wraps, holds them again.
  'err.parameters',
  'err.detail',
  'err.where',
  'err.driverError',
];

/** The URL with the values of token-like query parameters (hub.verify_token, …) blanked. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = new URLSearchParams(url.slice(query + 1));
  let changed = false;
  for (const key of [...params.keys()]) {
    if (SENSITIVE_PARAM.test(key)) {
      params.set(key, REDACTED);
      changed = true;
    }
  }
  return changed ? `${url.slice(0, query)}?${params.toString()}` : url;
}

/** The caller's request id when well-formed, else a new one (Fastify keeps it as `request.id`). */
export function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * nestjs-pino settings: JSON lines, a request id on every line of a request, secrets redacted.
 * The request logger binds each request's lines through an AsyncLocalStorage, and the first
 * request it sees switches on Node's promise hooks for the rest of the process (every promise
 * then costs more). Probes and scrapes do without it, and a worker-only process (`api` false),
 * whose HTTP port serves nothing else, never binds one. The routes `byHook` names (webhook POSTs,
 * the bulk of the API's requests) do without it too: `logRequestsByHook` gives each its line.
 */
export function loggerParams(
  level: LogLevel,
  { api, byHook = [] }: { api: boolean; byHook?: Array<{ path: string; method: RequestMethod }> },
): Params {
  return {
    forRoutes: api ? [{ path: '*', method: RequestMethod.ALL }] : [],
    exclude: [
      { path: 'health', method: RequestMethod.ALL },
      { path: 'health/*path', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.ALL },
      ...byHook,
    ],
    pinoHttp: {
      level,
      // Fastify has set the id already (see bootstrap); every line of the request carries it.
      genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? requestId(req),
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/**
 * The line the request logger writes when a response is sent (`request completed`, or `request
 * errored` for a 5xx), written by a Fastify hook for the requests `loggedByHook` picks: they skip
 * the request logger's middleware, whose per-request child logger and request context took 6-15%
 * of the API's CPU at 200 webhooks a second (docs/performance.md). Lines written while such a
 * request runs carry no request id (unless they name it); its closing line does.
 */
export function logRequestsByHook(
  fastify: FastifyInstance,
  logger: () => Logger | undefined,
  loggedByHook: (request: FastifyRequest) => boolean,
): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const root = logger();
    if (root?.isLevelEnabled('info') && loggedByHook(request)) {
      // The serializers read Node's request, with the id the request logger would have set.
      request.raw.id = request.id;
      const fields = {
        req: request.raw,
        res: reply.raw,
        responseTime: Math.round(reply.elapsedTime),
      };
      if (reply.statusCode >= 500) {
        const err = new Error(`failed with status code ${reply.statusCode}`);
        root.info({ ...fields, err }, 'request errored');
      } else {
        root.info(fields, 'request completed');
      }
    }
    done();
  });
}

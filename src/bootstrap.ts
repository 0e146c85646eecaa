import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from 'src/app.module';
import { setupApiDocs } from 'src/common/api-docs';
import {
  API_BODY_LIMIT_BYTES,
  IMPORT_BODY_LIMIT_BYTES,
  type BodyLimitRouteConfig,
} from 'src/common/body-limits';
import { REQUEST_ID_HEADER, logRequestsByHook, requestId } from 'src/common/logging';
import { holdsOnlyStorableText, mayHoldUnstorableText } from 'src/common/storable-text';
import { ApiValidationPipe } from 'src/common/validation';
import { isWebhookPost } from 'src/webhook/webhook-routes';
import { appConfig, roleParts } from 'src/config/app.config';
import { securityConfig } from 'src/config/security.config';
import { mountBullBoard } from 'src/operations/bull-board';
import type { AppRole } from 'src/config/env';

/** Meta batches up to 1000 updates in one POST; nothing legitimate is larger than this. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface CreateAppOptions {
  /** Overrides APP_ROLE. */
  role?: AppRole;
  /** Close on SIGTERM and SIGINT (default); false for a caller that closes the app itself. */
  shutdownHooks?: boolean;
}

/**
 * The Fastify adapter every Radd HTTP server uses: body and time limits, prototype-poisoning
 * refusal, request ids echoed back, and per-route body limits.
 */
export function createHttpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: 30_000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: requestId,
  });
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  adapter.getInstance().addHook('onRoute', (route) => {
    // A route may declare its own limit (@RouteConfig({ bodyLimit })); /api/* is kept small.
    const config: unknown = route.config;
    const declared = (config as BodyLimitRouteConfig | undefined)?.bodyLimit;
    if (declared !== undefined) route.bodyLimit = declared;
    else if (route.url.startsWith('/api/')) route.bodyLimit = API_BODY_LIMIT_BYTES;
  });
  return adapter;
}

/**
 * Builds the application for this process's role, configured but not listening. Throws
 * ConfigValidationError before anything starts when a setting is missing or wrong.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const config = appConfig();
  const role = options.role ?? config.role;
  const adapter = createHttpAdapter();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRole(role), adapter, {
    rawBody: true,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  if (roleParts(role).http) {
    // The request logger's root (set when its middleware is configured) writes these lines.
    logRequestsByHook(app.getHttpAdapter().getInstance(), () => PinoLogger.root, isWebhookPost);
  }
  useJsonBodies(app);
  useCsvBodies(app);
  useOtherBodies(app);
  app.useGlobalPipes(new ApiValidationPipe());
  if (roleParts(role).http) setupApiDocs(app);
  if (roleParts(role).http) await mountBullBoard(app, securityConfig().bullBoard);
  if (options.shutdownHooks !== false) app.enableShutdownHooks();
  return app;
}

/** A body whose text PostgreSQL would refuse: a 400 before anything tries to store it. */
function unstorableText(): Error {
  return Object.assign(
    new Error(
      'the body holds text that cannot be stored: U+0000, or half of a surrogate pair (\\ud800-\\udfff alone)',
    ),
    { statusCode: 400 },
  );
}

/**
 * JSON bodies: kept as raw bytes (`request.rawBody`) everywhere, parsed safely (prototype
 * poisoning refused) except on signed webhook routes, which get the bytes unparsed.
 */
export function useJsonBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>(
    'application/json',
    { bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      if (isWebhookPost(request)) {
        done(null, body);
        return;
      }
      // A body-less POST that names JSON anyway (`curl -H 'Content-Type: application/json'`)
      // has no body, as without the header.
      if (body.length === 0) {
        done(null, undefined);
        return;
      }
      const text = body.toString('utf8');
      void parseJson(request, text, (error, value: unknown) => {
        if (!error && mayHoldUnstorableText(text) && !holdsOnlyStorableText(value)) {
          done(unstorableText());
          return;
        }
        done(error, value);
      });
    },
  );
}

/** CSV bodies (product import) arrive as text; routes without a use for them refuse a string. */
function useCsvBodies(app: NestFastifyApplication): void {
  app.useBodyParser<Server>(
    'text/csv',
    { bodyLimit: IMPORT_BODY_LIMIT_BYTES },
    (_request, body, done) => {
      const text = body.toString('utf8');
      if (text.includes('\u0000')) {
        done(unstorableText());
        return;
      }
      done(null, text);
    },
  );
}

/**
 * Bodies of any other type (text/plain included), or of none: a signed webhook route keeps the bytes, so that its
 * signature is checked first (a forged request is a 401 whatever type it claims, a signed body
 * that is not JSON a 400); any other route answers 415.
 */
function useOtherBodies(app: NestFastifyApplication): void {
  // text/plain has a parser of Fastify's own, which would leave the webhook routes no bytes.
  app.useBodyParser<Server>(
    ['text/plain', '*'],
    { bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      if (isWebhookPost(request)) {
        done(null, body);
        return;
      }
      const type = request.headers['content-type'] ?? 'none';
      done(
        Object.assign(new Error(`Unsupported Media Type: ${type} (send application/json)`), {
          statusCode: 415,
        }),
        undefined,
      );
    },
  );
}

/** Starts listening: the API port, or the health port for a worker-only process. */
export async function listen(app: NestFastifyApplication, role?: AppRole): Promise<string> {
  const config = appConfig();
  const port = roleParts(role ?? config.role).http ? config.port : config.workerHealthPort;
  await app.listen({ port, host: config.host });
  return app.getUrl();
}

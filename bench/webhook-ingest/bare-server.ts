/**
 * Baseline for webhook-ingest: plain Fastify, one route that reads the raw body, checks Meta's
 * signature in constant time and answers 200. No Nest, no database, no queue.
 * Settings: PORT, META_APP_SECRET.
 */
import fastify from 'fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

const secret = process.env.META_APP_SECRET ?? '';
const port = Number(process.env.PORT ?? 0);

function isSigned(body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !SIGNATURE.test(header)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(header.slice('sha256='.length), 'hex'));
}

const app = fastify({ logger: false, bodyLimit: 1024 * 1024 });

app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
  done(null, body),
);

app.get('/health/ready', (_request, reply) => reply.send({ status: 'ok' }));

app.post('/webhooks/instagram', (request, reply) => {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (!isSigned(body, request.headers['x-hub-signature-256'])) {
    return reply.code(401).send('missing or invalid X-Hub-Signature-256');
  }
  return reply.type('text/plain; charset=utf-8').send('EVENT_RECEIVED');
});

process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));

app.listen({ port, host: '127.0.0.1' }).catch((error: unknown) => {
  process.stderr.write(`bare server failed to start: ${String(error)}\n`);
  process.exit(1);
});

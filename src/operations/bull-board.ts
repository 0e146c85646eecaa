import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from 'src/common/safe-equal';
import type { SecurityConfig } from 'src/config/security.config';
import { QueueManager } from 'src/queue/queue-manager';
import { AuthFailureLimiter } from 'src/webhook/auth-failure.limiter';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The queue dashboard (Bull Board) at /admin/queues, behind HTTP basic auth. Mounted only when
 * BULL_BOARD_USER and BULL_BOARD_PASSWORD are both set; its packages load only then.
 */
export async function mountBullBoard(
  app: NestFastifyApplication,
  credentials: SecurityConfig['bullBoard'],
): Promise<boolean> {
  if (!credentials) return false;
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/fastify'),
  ]);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: app
      .get(QueueManager)
      .all()
      .map(([, queue]) => new BullMQAdapter(queue)),
    serverAdapter,
  });
  const expected = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  const failures = app.get(AuthFailureLimiter, { strict: false });
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      // Wrong credentials are counted per address (none yet is a browser's first ask). Past
      // AUTH_FAILURES_PER_MINUTE in a minute the address is answered 429 whatever it sends, so
      // that a guess that happens to be right is not told from the others.
      const tooMany = () =>
        reply.status(429).header('retry-after', '60').send({
          statusCode: 429,
          error: 'Too Many Requests',
          message: 'too many failed sign-ins from this address; try again in a minute',
        });
      if (await failures.isBlocked('queue-dashboard', request.ip)) return tooMany();
      const given = request.headers.authorization;
      if (typeof given === 'string' && safeEqual(given, expected)) return;
      if (given !== undefined && (await failures.recordFailure('queue-dashboard', request.ip))) {
        return tooMany();
      }
      return reply
        .status(401)
        .header('www-authenticate', 'Basic realm="Radd queues", charset="UTF-8"')
        .send({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'queue dashboard credentials required',
        });
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
  return true;
}

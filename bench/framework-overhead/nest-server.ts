/**
 * The Nest side of framework-overhead: Nest on Fastify with the very adapter and raw-body parsing
 * of src/bootstrap.ts, and one controller that checks Meta's signature with Radd's own
 * isValidMetaSignature and answers 200, as the webhook controller does before it stores anything.
 * No database, no queue, no logger. Settings: PORT, META_APP_SECRET.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Module,
  Post,
  Req,
  Res,
  UnauthorizedException,
  type RawBodyRequest,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHttpAdapter, useJsonBodies } from 'src/bootstrap';
import { isValidMetaSignature } from 'src/webhook/meta-signature';

const WEBHOOK_PATH = '/webhooks/instagram';

const secrets = [process.env.META_APP_SECRET ?? ''];
const port = Number(process.env.PORT ?? 0);

@Controller(WEBHOOK_PATH.slice(1))
class WebhookController {
  @Post()
  @HttpCode(HttpStatus.OK)
  receive(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('x-hub-signature-256') signature: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): string {
    if (!isValidMetaSignature(request.rawBody ?? Buffer.alloc(0), signature, secrets)) {
      throw new UnauthorizedException('missing or invalid X-Hub-Signature-256');
    }
    void reply.type('text/plain; charset=utf-8');
    return 'EVENT_RECEIVED';
  }
}

@Controller('health')
class HealthController {
  @Get('ready')
  ready(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [WebhookController, HealthController] })
class BenchModule {}

async function main(): Promise<void> {
  const adapter = createHttpAdapter();
  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, adapter, {
    rawBody: true,
    logger: false,
  });
  useJsonBodies(app);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  await app.listen({ port, host: '127.0.0.1' });
}

main().catch((error: unknown) => {
  process.stderr.write(`nest server failed to start: ${String(error)}\n`);
  process.exit(1);
});

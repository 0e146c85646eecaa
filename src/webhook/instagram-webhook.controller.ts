import {
  BadRequestException,
  Controller,
  ForbiddenException,
  Get,
  Headers,
  HttpCode,
  HttpException,
  HttpStatus,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
  type RawBodyRequest,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MetricsService } from 'src/metrics/metrics.service';
import { InstagramWebhookHandler } from 'src/webhook/instagram-webhook.handler';
import { Public } from 'src/auth/auth.decorators';
import { INSTAGRAM_WEBHOOK_PATH } from 'src/webhook/webhook-routes';

/** Meta's webhook endpoint (public: authenticated by the verify token and the body signature). */
@Public()
@Controller(INSTAGRAM_WEBHOOK_PATH.slice(1))
export class InstagramWebhookController {
  constructor(
    private readonly handler: InstagramWebhookHandler,
    private readonly metrics: MetricsService,
  ) {}

  @Get()
  verify(
    @Query('hub.mode') mode: unknown,
    @Query('hub.verify_token') token: unknown,
    @Query('hub.challenge') challenge: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): string {
    const answer = this.handler.verifySubscription(mode, token, challenge);
    if (answer === null) throw new ForbiddenException('verification failed');
    void reply.type('text/plain; charset=utf-8');
    return answer;
  }

  @Post()
  @HttpCode(HttpStatus.OK)
  async receive(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('x-hub-signature-256') signature: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const timer = this.metrics.webhookDuration.startTimer({ source: 'instagram' });
    const result = await this.handler.receive({
      rawBody: request.rawBody ?? Buffer.alloc(0),
      signature,
      clientAddress: request.ip,
      requestId: request.id,
    });
    timer();
    this.metrics.webhookRequests.inc({ source: 'instagram', outcome: result.outcome });
    switch (result.outcome) {
      case 'accepted':
        void reply.type('text/plain; charset=utf-8');
        return 'EVENT_RECEIVED';
      case 'forged':
        throw new UnauthorizedException('missing or invalid X-Hub-Signature-256');
      case 'throttled':
        throw new HttpException(
          'too many failed signatures from this address',
          HttpStatus.TOO_MANY_REQUESTS,
        );
      case 'malformed':
        throw new BadRequestException(result.reason);
      case 'unavailable':
        throw new ServiceUnavailableException('storage is unavailable, retry later');
      case 'busy':
        throw new ServiceUnavailableException('storage is busy, retry later');
    }
  }
}

import {
  BadRequestException,
  Controller,
  Headers,
  HttpCode,
  HttpException,
  HttpStatus,
  Param,
  Post,
  Req,
  ServiceUnavailableException,
  UnauthorizedException,
  type RawBodyRequest,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { MetricsService } from 'src/metrics/metrics.service';
import { ManyChatWebhookHandler } from 'src/webhook/manychat-webhook.handler';
import { Public } from 'src/auth/auth.decorators';
import { MANYCHAT_WEBHOOK_PATH } from 'src/webhook/webhook-routes';

/** ManyChat's External Request (public: authenticated by the merchant's X-Radd-Secret). */
@Public()
@Controller(MANYCHAT_WEBHOOK_PATH.slice(1))
export class ManyChatWebhookController {
  constructor(
    private readonly handler: ManyChatWebhookHandler,
    private readonly metrics: MetricsService,
  ) {}

  @Post(':merchantId')
  @HttpCode(HttpStatus.ACCEPTED)
  async receive(
    @Param('merchantId') merchantId: string,
    @Headers('x-radd-secret') secret: string | undefined,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ): Promise<{ status: 'accepted' }> {
    const timer = this.metrics.webhookDuration.startTimer({ source: 'manychat' });
    const result = await this.handler.receive({
      // A UUID in capitals names the same merchant; its secret is sealed under the id as stored.
      merchantId: merchantId.toLowerCase(),
      secret,
      rawBody: request.rawBody ?? Buffer.alloc(0),
      clientAddress: request.ip,
      requestId: request.id,
    });
    timer();
    this.metrics.webhookRequests.inc({ source: 'manychat', outcome: result.outcome });
    switch (result.outcome) {
      case 'accepted':
        return { status: 'accepted' };
      case 'forged':
        throw new UnauthorizedException('missing or wrong X-Radd-Secret');
      case 'throttled':
        throw new HttpException(
          'too many failed secrets from this address',
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

import { Injectable, Logger } from '@nestjs/common';
import { MerchantDirectory } from 'src/merchant/merchant-directory';
import { AuthFailureLimiter } from 'src/webhook/auth-failure.limiter';
import type { WebhookOutcome } from 'src/webhook/instagram-webhook.handler';
import { parseManyChatInbound } from 'src/webhook/manychat-inbound';
import { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import { WebhookEventStore, WebhookStoreBusyError } from 'src/webhook/webhook-event.store';

export interface IncomingManyChat {
  merchantId: string;
  secret: string | string[] | undefined;
  rawBody: Buffer;
  clientAddress: string;
  /** The request's id, for the handler's own log lines (its request logs no context). */
  requestId?: string;
}

/**
 * A merchant's ManyChat flow forwarding a customer's message: authenticated by the merchant's
 * inbound secret, stored durably, then handled like an Instagram message.
 */
@Injectable()
export class ManyChatWebhookHandler {
  private readonly logger = new Logger(ManyChatWebhookHandler.name);

  constructor(
    private readonly merchants: MerchantDirectory,
    private readonly limiter: AuthFailureLimiter,
    private readonly store: WebhookEventStore,
    private readonly producer: ProcessWebhookProducer,
  ) {}

  async receive(request: IncomingManyChat): Promise<WebhookOutcome> {
    let authentic = false;
    try {
      authentic =
        typeof request.secret === 'string' &&
        (await this.merchants.inboundSecretMatches(request.merchantId, request.secret));
    } catch (error) {
      this.logger.error(
        { err: error, merchantId: request.merchantId, requestId: request.requestId },
        'could not check a ManyChat secret',
      );
      return { outcome: 'unavailable' };
    }
    if (!authentic) {
      const throttled = await this.limiter.recordFailure('manychat', request.clientAddress);
      return { outcome: throttled ? 'throttled' : 'forged' };
    }
    const parsed = parseManyChatInbound(request.rawBody);
    if (typeof parsed === 'string') return { outcome: 'malformed', reason: parsed };
    let eventId: string;
    try {
      eventId = await this.store.append('manychat', request.rawBody, request.merchantId);
    } catch (error) {
      if (error instanceof WebhookStoreBusyError) return { outcome: 'busy' };
      this.logger.error(
        { err: error, requestId: request.requestId },
        'could not store a ManyChat message',
      );
      return { outcome: 'unavailable' };
    }
    this.producer.enqueue('manychat', eventId);
    return { outcome: 'accepted', eventId };
  }
}

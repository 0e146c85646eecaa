import { Inject, Injectable, Logger } from '@nestjs/common';
import secureJson from 'secure-json-parse';
import { metaConfig, type MetaConfig } from 'src/config/meta.config';
import { AuthFailureLimiter } from 'src/webhook/auth-failure.limiter';
import { safeEqual } from 'src/common/safe-equal';
import { isValidMetaSignature } from 'src/webhook/meta-signature';
import { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import { WebhookEventStore, WebhookStoreBusyError } from 'src/webhook/webhook-event.store';

export interface IncomingWebhook {
  rawBody: Buffer;
  signature: string | string[] | undefined;
  clientAddress: string;
  /** The request's id, for the handler's own log lines (its request logs no context). */
  requestId?: string;
}

export type WebhookOutcome =
  | { outcome: 'accepted'; eventId: string }
  | { outcome: 'forged' }
  | { outcome: 'throttled' }
  | { outcome: 'malformed'; reason: string }
  | { outcome: 'unavailable' }
  | { outcome: 'busy' };

/**
 * Meta's side of Radd: the verification handshake, and every POST verified over its raw bytes,
 * stored durably, then queued. Knows nothing of HTTP; the controller maps outcomes to statuses.
 */
@Injectable()
export class InstagramWebhookHandler {
  private readonly logger = new Logger(InstagramWebhookHandler.name);

  constructor(
    @Inject(metaConfig.KEY) private readonly config: MetaConfig,
    private readonly limiter: AuthFailureLimiter,
    private readonly store: WebhookEventStore,
    private readonly producer: ProcessWebhookProducer,
  ) {}

  /** The challenge to echo when Meta's handshake is genuine, else null. */
  verifySubscription(mode: unknown, token: unknown, challenge: unknown): string | null {
    if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string') {
      return null;
    }
    if (!this.config.verifyToken || !safeEqual(token, this.config.verifyToken)) return null;
    return challenge;
  }

  async receive(webhook: IncomingWebhook): Promise<WebhookOutcome> {
    if (!isValidMetaSignature(webhook.rawBody, webhook.signature, this.config.signingSecrets)) {
      const throttled = await this.limiter.recordFailure('instagram', webhook.clientAddress);
      return { outcome: throttled ? 'throttled' : 'forged' };
    }
    const problem = malformation(webhook.rawBody);
    if (problem) return { outcome: 'malformed', reason: problem };
    let eventId: string;
    try {
      eventId = await this.store.append('instagram', webhook.rawBody);
    } catch (error) {
      // The store logs its own refusals, once in a while: under overload there are many.
      if (error instanceof WebhookStoreBusyError) return { outcome: 'busy' };
      this.logger.error(
        { err: error, requestId: webhook.requestId },
        'could not store a webhook event; Meta will retry',
      );
      return { outcome: 'unavailable' };
    }
    this.producer.enqueue('instagram', eventId);
    return { outcome: 'accepted', eventId };
  }
}

/** Why a correctly signed body cannot be an Instagram webhook, or null when it can. */
function malformation(rawBody: Buffer): string | null {
  let body: unknown;
  try {
    body = secureJson.parse(rawBody, undefined, {
      protoAction: 'error',
      constructorAction: 'error',
    });
  } catch {
    return 'the body is not valid JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'the body is not a JSON object';
  }
  const { object, entry } = body as { object?: unknown; entry?: unknown };
  if (object !== 'instagram') return 'object must be "instagram"';
  if (!Array.isArray(entry)) return 'entry must be an array';
  return null;
}

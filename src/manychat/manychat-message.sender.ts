import { Injectable } from '@nestjs/common';
import { DeliveryFailure, requestMayHaveArrived } from 'src/delivery/delivery-failure';
import type { MessageTag } from 'src/delivery/message-window';
import type { OutboundItem } from 'src/delivery/outbound';
import {
  MANYCHAT_MAX_MESSAGES,
  ManyChatApiError,
  ManyChatClient,
} from 'src/manychat/manychat.client';

/** What a ManyChat error means for delivery (manychat-openai spec A.3). */
export function classifyManyChatError(error: ManyChatApiError): DeliveryFailure {
  const { code, status } = error;
  const fail = (reason: string) => new DeliveryFailure('permanent', reason, error.message);
  if (code === 3011 || code === 3031) return fail('window_closed');
  if (code === 3021) return fail('no_notification_token');
  if (code !== undefined && code >= 3040 && code <= 3049) return fail('channel_unavailable');
  if (status === 401 || status === 403) return fail('manychat_unauthorized');
  if (status === 429) {
    return new DeliveryFailure('transient', 'rate_limited', error.message, error.retryAfterMs);
  }
  // sendContent has no idempotency key, and a 5xx does not say the message was not taken
  // (manychat-openai A.2, A.3): it waits for its echo, and is sent again only if none comes.
  if (status >= 500) {
    return new DeliveryFailure('unknown_outcome', 'outcome_unknown', error.message);
  }
  // HTTP 2xx with an unreadable body: ManyChat may or may not have taken the message.
  if (status < 300 && error.unreadable) {
    return new DeliveryFailure('unknown_outcome', 'outcome_unknown', error.message);
  }
  return fail('manychat_rejected');
}

export function manyChatFailure(error: unknown): DeliveryFailure {
  if (error instanceof DeliveryFailure) return error;
  if (error instanceof ManyChatApiError) return classifyManyChatError(error);
  const detail = error instanceof Error ? error.message : String(error);
  return requestMayHaveArrived(error)
    ? new DeliveryFailure(
        'unknown_outcome',
        'outcome_unknown',
        `no answer from ManyChat: ${detail}`,
      )
    : new DeliveryFailure('transient', 'provider_unreachable', `ManyChat unreachable: ${detail}`);
}

/**
 * Sends to an Instagram contact through ManyChat's sendContent: up to ten messages (text parts,
 * then an image) in one call; a bot reply carries no message tag, a person's late message
 * `HUMAN_AGENT`. ManyChat returns no message id. Failures are DeliveryFailures.
 */
@Injectable()
export class ManyChatMessageSender {
  constructor(private readonly client: ManyChatClient) {}

  async send(
    apiKey: string,
    subscriberId: string,
    items: OutboundItem[],
    tag: MessageTag | undefined,
    timeoutMs: number,
  ): Promise<void> {
    if (items.length === 0 || items.length > MANYCHAT_MAX_MESSAGES) {
      throw new DeliveryFailure('permanent', 'invalid_parameter', `${items.length} messages`);
    }
    const messages = items.map((item) =>
      item.kind === 'text'
        ? { type: 'text' as const, text: item.text }
        : { type: 'image' as const, url: item.url },
    );
    try {
      await this.client.sendContent(apiKey, subscriberId, messages, tag, timeoutMs);
    } catch (error) {
      throw manyChatFailure(error);
    }
  }

  /**
   * The subscriber whose custom field `fieldId` holds this IGSID, or null when there is none.
   * A failed lookup is thrown as a DeliveryFailure.
   */
  async findSubscriber(apiKey: string, fieldId: string, igsid: string): Promise<string | null> {
    try {
      const found = await this.client.findByCustomField(apiKey, fieldId, igsid);
      return found[0]?.id ?? null;
    } catch (error) {
      throw lookupFailure(manyChatFailure(error));
    }
  }
}

/**
 * A lookup changes nothing at ManyChat: an answer lost or a 5xx only means "not now", not a send
 * of unknown outcome.
 */
export function lookupFailure(failure: DeliveryFailure): DeliveryFailure {
  if (failure.kind !== 'unknown_outcome') return failure;
  return new DeliveryFailure(
    'transient',
    'lookup_failed',
    `ManyChat subscriber lookup: ${failure.message}`,
  );
}

import { Injectable } from '@nestjs/common';
import { DeliveryFailure, requestMayHaveArrived } from 'src/delivery/delivery-failure';
import type { MessageTag } from 'src/delivery/message-window';
import type { OutboundItem } from 'src/delivery/outbound';
import {
  GraphApiError,
  InstagramGraphClient,
  type SendApiMessage,
  type SendApiRecipient,
} from 'src/instagram/instagram-graph.client';

/** Graph codes that mean "not now": retry with backoff (meta-instagram spec §5.3, §7). */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 613, 80002, 80006]);
const WINDOW_SUBCODES = new Set([2534022, 2018278]);
const TAG_MISUSE_SUBCODE = 2018338;
const USER_UNAVAILABLE_SUBCODE = 1545041;
const INVALID_PRIVATE_REPLY_SUBCODE = 2534025;
/** The account's link to its page (or its 2FA) must be confirmed again: "reconnect" (§5.3). */
const RECONNECT = new Set(['10/2534077', '100/2534013']);
const ACCOUNT_RESTRICTED_SUBCODE = 1893063;

/** What a Graph error means for delivery. */
export function classifyGraphError(error: GraphApiError): DeliveryFailure {
  const { code, subcode, status } = error;
  const fail = (reason: string) => new DeliveryFailure('permanent', reason, error.message);
  if (code === 190 || RECONNECT.has(`${code}/${subcode}`)) {
    return new DeliveryFailure('reauth', 'needs_reauth', error.message);
  }
  if (code === 10 && subcode === ACCOUNT_RESTRICTED_SUBCODE) return fail('account_restricted');
  if (code === 613 && subcode === TAG_MISUSE_SUBCODE) return fail('tag_misuse');
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    const reason = code === 1 || code === 2 ? 'provider_error' : 'rate_limited';
    return new DeliveryFailure('transient', reason, error.message, error.retryAfterMs);
  }
  if (code === 10 && subcode !== undefined && WINDOW_SUBCODES.has(subcode)) {
    return fail('window_closed');
  }
  if (code === 551 || subcode === USER_UNAVAILABLE_SUBCODE || subcode === 2018108) {
    return fail('recipient_unavailable');
  }
  if (code === 100 && subcode === INVALID_PRIVATE_REPLY_SUBCODE) {
    return fail('comment_not_repliable');
  }
  if (code === 100) return fail('invalid_parameter');
  if (code === 10 || code === 200) return fail('not_permitted');
  if (code === undefined && (status >= 500 || status === 429)) {
    return new DeliveryFailure(
      'transient',
      'provider_unavailable',
      error.message,
      error.retryAfterMs,
    );
  }
  return fail('rejected');
}

/** Any error of a Send API call, as delivery sees it. */
export function graphFailure(error: unknown): DeliveryFailure {
  if (error instanceof DeliveryFailure) return error;
  if (error instanceof GraphApiError) return classifyGraphError(error);
  const detail = error instanceof Error ? error.message : String(error);
  return requestMayHaveArrived(error)
    ? new DeliveryFailure('unknown_outcome', 'outcome_unknown', `no answer from Meta: ${detail}`)
    : new DeliveryFailure('transient', 'provider_unreachable', `Meta unreachable: ${detail}`);
}

/**
 * Sends through the Instagram Send API (`POST /{version}/me/messages`): replies as
 * `messaging_type: RESPONSE`, a person's message after 24 hours as `MESSAGE_TAG` + `HUMAN_AGENT`,
 * a private reply to a comment with `recipient.comment_id`. Failures are DeliveryFailures.
 */
@Injectable()
export class InstagramMessageSender {
  constructor(private readonly graph: InstagramGraphClient) {}

  /** Sends one message; returns Meta's message id (the `mid` of its echo). */
  async send(
    token: string,
    recipient: SendApiRecipient,
    item: OutboundItem,
    tag: MessageTag | undefined,
    timeoutMs: number,
  ): Promise<string | undefined> {
    const message: SendApiMessage =
      item.kind === 'text'
        ? { text: item.text }
        : { attachment: { type: 'image', payload: { url: item.url } } };
    const request =
      'comment_id' in recipient
        ? { recipient, message }
        : tag
          ? { recipient, messaging_type: 'MESSAGE_TAG' as const, tag, message }
          : { recipient, messaging_type: 'RESPONSE' as const, message };
    try {
      return (await this.graph.send(token, request, timeoutMs)).messageId;
    } catch (error) {
      throw graphFailure(error);
    }
  }

  /** Shows "typing…" to the customer; a failure here is reported, never thrown. */
  async typingOn(token: string, igsid: string, timeoutMs: number): Promise<DeliveryFailure | null> {
    try {
      await this.graph.send(
        token,
        { recipient: { id: igsid }, sender_action: 'typing_on' },
        timeoutMs,
      );
      return null;
    } catch (error) {
      return graphFailure(error);
    }
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { manychatConfig, type ManyChatConfig } from 'src/config/manychat.config';
import type { MessageChannel } from 'src/conversation/message.entity';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import { DeliveryPartStore, type OutboundMessage } from 'src/delivery/delivery-part.store';
import { ManyChatMessageSender } from 'src/manychat/manychat-message.sender';
import { MerchantDirectory } from 'src/merchant/merchant-directory';

const fail = (reason: string, detail: string) => new DeliveryFailure('permanent', reason, detail);

/**
 * How long a search that found no ManyChat contact for a customer is believed, and for how many
 * customers at most: a customer who never wrote through ManyChat is not searched for on every
 * reply (ManyChat allows 10 searches a second per key). One who does write through it is known by
 * that message's subscriber id, with no search.
 */
const NOT_FOUND_TTL_MS = 10 * 60_000;
const NOT_FOUND_MAX = 10_000;

/**
 * Which way a message goes, and with which credentials. ManyChat merchants send through
 * ManyChat to the customer's subscriber id (from ManyChat's inbound webhook, or looked up by the
 * custom field holding the IGSID); without one, through the Send API when the merchant has an
 * Instagram token, except in a thread another app owns (standby). Instagram merchants send
 * through the Send API. Private replies to comments exist only in the Send API.
 */
@Injectable()
export class DeliveryRouter {
  /** Customers no ManyChat contact was found for, until when (see NOT_FOUND_TTL_MS). */
  private readonly notFound = new Map<string, number>();

  constructor(
    private readonly merchants: MerchantDirectory,
    private readonly manychat: ManyChatMessageSender,
    private readonly store: DeliveryPartStore,
    @Inject(manychatConfig.KEY) private readonly config: ManyChatConfig,
  ) {}

  /** The channel of a message not sent yet (a channel set on it is kept if it can be used). */
  async channelFor(
    message: OutboundMessage,
    commentId: string | undefined,
  ): Promise<MessageChannel> {
    const instagram = message.hasInstagramToken && message.igsid !== null;
    if (commentId) {
      if (!message.hasInstagramToken) {
        throw fail('no_instagram_token', 'a private reply needs the Instagram Send API');
      }
      return 'instagram';
    }
    if (message.channel === 'instagram') {
      if (!instagram) throw this.noInstagram(message);
      return 'instagram';
    }
    if (message.channel === 'manychat') {
      if (!(await this.subscriberOf(message))) throw this.noSubscriber();
      return 'manychat';
    }
    if (message.merchantChannel === 'instagram') {
      if (instagram) return 'instagram';
      if (await this.subscriberOf(message)) return 'manychat';
      throw this.noInstagram(message);
    }
    if (await this.subscriberOf(message)) return 'manychat';
    if (instagram && !message.standby) return 'instagram';
    throw this.noSubscriber();
  }

  /** The merchant's ManyChat key, else MANYCHAT_API_KEY. */
  async manychatKey(merchantId: string): Promise<string | null> {
    return (await this.merchants.manychatApiKey(merchantId)) ?? this.config.apiKey ?? null;
  }

  /** The ManyChat key of a loaded message's merchant (read with the message), else MANYCHAT_API_KEY. */
  manychatKeyOf(message: OutboundMessage): string | null {
    return (
      this.merchants.openManychatApiKey(message.merchantId, message.sealedManychatKey) ??
      this.config.apiKey ??
      null
    );
  }

  async instagramToken(merchantId: string): Promise<string | null> {
    return this.merchants.instagramToken(merchantId);
  }

  /**
   * The customer's ManyChat subscriber id: the stored one, else the contact whose custom field
   * (the merchant's `manychatSubscriberField`) holds the IGSID, remembered once found.
   */
  async subscriberOf(message: OutboundMessage): Promise<string | null> {
    if (message.subscriberId) return message.subscriberId;
    if (!message.subscriberField || !message.igsid) return null;
    const key = this.manychatKeyOf(message);
    if (!key) return null;
    const searched = `${message.merchantId}:${message.subscriberField}:${message.igsid}`;
    const until = this.notFound.get(searched);
    if (until !== undefined && until > Date.now()) return null;
    this.notFound.delete(searched);
    const found = await this.manychat.findSubscriber(key, message.subscriberField, message.igsid);
    if (found) {
      await this.store.rememberSubscriber(message.merchantId, message.customerId, found);
      message.subscriberId = found;
    } else {
      if (this.notFound.size >= NOT_FOUND_MAX) {
        const oldest = this.notFound.keys().next();
        if (!oldest.done) this.notFound.delete(oldest.value);
      }
      this.notFound.set(searched, Date.now() + NOT_FOUND_TTL_MS);
    }
    return found;
  }

  private noSubscriber(): DeliveryFailure {
    return fail('subscriber_unknown', 'no ManyChat subscriber id is known for this customer');
  }

  private noInstagram(message: OutboundMessage): DeliveryFailure {
    return message.hasInstagramToken
      ? fail('recipient_unknown', 'the customer has no Instagram-scoped id')
      : fail('no_instagram_token', 'the merchant has no Instagram access token');
  }
}

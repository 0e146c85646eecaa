import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { rowsOf } from 'src/database/sql';
import {
  ChannelUnavailableError,
  DeliveryQueueUnavailableError,
  MessagingWindowClosedError,
  RecipientNotFoundError,
  RecipientNotGivenError,
} from 'src/delivery/delivery.errors';
import { DeliveryRouter } from 'src/delivery/delivery-router';
import type { SendUtilityMessageDto } from 'src/delivery/dto/send-utility-message.dto';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import { checkMessageWindow } from 'src/delivery/message-window';

interface Recipient {
  conversation_id: string;
  last_customer_message_at: Date | null;
  igsid: string | null;
  has_instagram_token: boolean;
}

/**
 * Messages a person sends through Radd (INTERFACE §3.7): checked against the messaging window
 * now (and again when sent), stored as the person's outbound message, and handed to delivery.
 * Like a reply typed in Instagram, it answers what the customer said and pauses the bot.
 */
@Injectable()
export class UtilityMessagesService {
  private readonly logger = new Logger(UtilityMessagesService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: MessageDeliveryProducer,
    private readonly router: DeliveryRouter,
    @Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig,
  ) {}

  async send(
    merchantId: string,
    input: SendUtilityMessageDto,
    author: string,
  ): Promise<{ messageId: string; status: 'queued' }> {
    if ((input.recipientId === undefined) === (input.conversationId === undefined)) {
      throw new RecipientNotGivenError();
    }
    const [recipient] = await rowsOf<Recipient>(
      this.dataSource,
      `SELECT c.id AS conversation_id, c.last_customer_message_at, cu.igsid,
              (me.instagram_access_token IS NOT NULL) AS has_instagram_token
         FROM conversations c JOIN customers cu ON cu.id = c.customer_id
         JOIN merchants me ON me.id = c.merchant_id
        WHERE c.merchant_id = $1 AND (c.id = $2::uuid OR cu.igsid = $3)`,
      [merchantId, input.conversationId ?? null, input.recipientId ?? null],
    );
    if (!recipient) throw new RecipientNotFoundError();
    const window = checkMessageWindow(recipient.last_customer_message_at, 'human');
    if (!window.open) throw new MessagingWindowClosedError(window.detail);
    await this.checkChannel(merchantId, input.channel, recipient);

    const messageId = await this.dataSource.transaction(async (manager) => {
      const [message] = await rowsOf<{ id: string }>(
        manager,
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, delivery_status, channel, meta, occurred_at)
         VALUES ($1, $2, 'out', 'human', 'text', $3, 'queued', $4, $5, now())
         RETURNING id`,
        [
          merchantId,
          recipient.conversation_id,
          input.message,
          input.channel ?? null,
          JSON.stringify({ via: 'api', author }),
        ],
      );
      await manager.query(
        `UPDATE messages SET answered_by = $2
          WHERE conversation_id = $1 AND direction = 'in' AND answered_by IS NULL`,
        [recipient.conversation_id, message.id],
      );
      await manager.query(
        `UPDATE conversations
            SET last_message_at = GREATEST(last_message_at, now()),
                bot_paused_until = GREATEST(bot_paused_until, now() + make_interval(mins => $2)),
                updated_at = now()
          WHERE id = $1`,
        [recipient.conversation_id, this.behaviour.botPauseOnHumanMinutes],
      );
      return message.id;
    });

    try {
      await this.producer.enqueue(merchantId, messageId);
    } catch (error) {
      this.logger.error({ err: error, merchantId, messageId }, 'could not queue a utility message');
      await this.dataSource.query(
        `UPDATE messages SET delivery_status = 'failed', delivery_error = 'queue_unavailable' WHERE id = $1`,
        [messageId],
      );
      throw new DeliveryQueueUnavailableError();
    }
    return { messageId, status: 'queued' };
  }

  /** A channel asked for must be usable by this merchant (the subscriber is found at delivery). */
  private async checkChannel(
    merchantId: string,
    channel: 'manychat' | 'instagram' | undefined,
    recipient: Recipient,
  ): Promise<void> {
    if (channel === 'instagram') {
      if (!recipient.has_instagram_token) {
        throw new ChannelUnavailableError('this merchant has no Instagram access token');
      }
      if (!recipient.igsid) {
        throw new ChannelUnavailableError('this customer is known to ManyChat only');
      }
    }
    if (channel === 'manychat' && !(await this.router.manychatKey(merchantId))) {
      throw new ChannelUnavailableError('this merchant has no ManyChat API key');
    }
  }
}

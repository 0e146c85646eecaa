import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import {
  decodeCursor,
  encodeCursor,
  isoMicros,
  ISO_MICROS,
  pageOf,
  type Page,
} from 'src/common/cursor';
import type { ConversationStatus } from 'src/conversation/conversation.entity';
import { ConversationNotFoundError } from 'src/conversation/conversation.errors';
import {
  MAX_PAUSE_MINUTES,
  type ConversationView,
  type MessageView,
} from 'src/conversation/dto/conversation.dto';
import type {
  DeliveryStatus,
  MessageAttachment,
  MessageChannel,
  MessageDirection,
  MessageSender,
} from 'src/conversation/message.entity';
import { rowsOf } from 'src/database/sql';
import { MerchantService } from 'src/merchant/merchant.service';

export interface ConversationFilter {
  status?: ConversationStatus;
  needsHuman?: boolean;
}

interface ConversationRow {
  id: string;
  status: ConversationStatus;
  bot_paused: boolean;
  needs_human: boolean;
  last_message_at: Date | null;
  last_customer_message_at: Date | null;
  igsid: string | null;
  username: string | null;
  name: string | null;
  sort_key: string | null;
}

interface MessageRow {
  id: string;
  direction: MessageDirection;
  sender: MessageSender;
  type: string;
  text: string | null;
  attachments: MessageAttachment[];
  intent: string | null;
  delivery_status: DeliveryStatus | null;
  delivery_error: string | null;
  channel: MessageChannel | null;
  deleted: boolean;
  occurred_at: Date;
  sort_key: string;
}

const CONVERSATION_COLUMNS = `
  c.id, c.status, c.needs_human, c.last_message_at, c.last_customer_message_at,
  COALESCE(c.bot_paused_until > now(), false) AS bot_paused,
  cu.igsid, cu.username, cu.name, ${isoMicros('c.last_message_at')} AS sort_key`;
const CONVERSATION_FROM = `
  FROM conversations c
  JOIN customers cu ON cu.id = c.customer_id AND cu.merchant_id = c.merchant_id`;

/**
 * What a merchant sees of its conversations: lists, messages, and the pause/resume switch of the
 * bot. Every query is scoped by the merchant: another merchant's conversation id finds nothing.
 */
@Injectable()
export class ConversationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly merchants: MerchantService,
    @Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig,
  ) {}

  /** Conversations with the latest message first (ones without any message last). */
  async list(
    merchantId: string,
    filter: ConversationFilter,
    limit: number,
    cursor?: string,
  ): Promise<Page<ConversationView>> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, ISO_MICROS);
    await this.merchants.assertExists(merchantId);
    const parameters: unknown[] = [merchantId];
    const where = ['c.merchant_id = $1'];
    const bind = (value: unknown): string => {
      parameters.push(value);
      return `$${parameters.length}`;
    };
    if (filter.status !== undefined) where.push(`c.status = ${bind(filter.status)}`);
    if (filter.needsHuman !== undefined) where.push(`c.needs_human = ${bind(filter.needsHuman)}`);
    if (after && after.key !== null) {
      const at = bind(after.key);
      const id = bind(after.id);
      where.push(
        `(c.last_message_at < ${at}::timestamptz
          OR (c.last_message_at = ${at}::timestamptz AND c.id < ${id}::uuid)
          OR c.last_message_at IS NULL)`,
      );
    } else if (after) {
      where.push(`(c.last_message_at IS NULL AND c.id < ${bind(after.id)}::uuid)`);
    }
    const rows = await rowsOf<ConversationRow>(
      this.dataSource,
      `SELECT ${CONVERSATION_COLUMNS} ${CONVERSATION_FROM}
        WHERE ${where.join(' AND ')}
        ORDER BY c.last_message_at DESC NULLS LAST, c.id DESC
        LIMIT ${bind(limit + 1)}`,
      parameters,
    );
    return pageOf(rows, limit, conversationView, (row) => encodeCursor(row.sort_key, row.id));
  }

  /** The conversation's messages, newest first. */
  async messages(
    merchantId: string,
    conversationId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<MessageView>> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, ISO_MICROS);
    await this.view(merchantId, conversationId);
    const parameters: unknown[] = [merchantId, conversationId, limit + 1];
    let keyset = '';
    if (after) {
      parameters.push(after.key, after.id);
      keyset = 'AND (m.occurred_at, m.id) < ($4::timestamptz, $5::uuid)';
    }
    const rows = await rowsOf<MessageRow>(
      this.dataSource,
      `SELECT m.id, m.direction, m.sender, m.type, m.text, m.attachments, m.intent,
              m.delivery_status, m.delivery_error, m.channel, m.deleted, m.occurred_at,
              ${isoMicros('m.occurred_at')} AS sort_key
         FROM messages m
        WHERE m.merchant_id = $1 AND m.conversation_id = $2 ${keyset}
        ORDER BY m.occurred_at DESC, m.id DESC
        LIMIT $3`,
      parameters,
    );
    return pageOf(rows, limit, messageView, (row) => encodeCursor(row.sort_key, row.id));
  }

  /** Silences the bot in this conversation for `minutes` (default BOT_PAUSE_ON_HUMAN_MINUTES). */
  async pause(
    merchantId: string,
    conversationId: string,
    minutes?: number,
  ): Promise<ConversationView> {
    const duration = Math.min(
      minutes ?? Math.max(1, this.behaviour.botPauseOnHumanMinutes),
      MAX_PAUSE_MINUTES,
    );
    await this.change(
      merchantId,
      conversationId,
      `bot_paused_until = now() + make_interval(mins => $3::int), updated_at = now()`,
      [duration],
    );
    return this.view(merchantId, conversationId);
  }

  /** Lets the bot answer again: clears the pause and the wait for a person. */
  async resume(merchantId: string, conversationId: string): Promise<ConversationView> {
    await this.change(
      merchantId,
      conversationId,
      `bot_paused_until = NULL, needs_human = false, updated_at = now()`,
    );
    return this.view(merchantId, conversationId);
  }

  async view(merchantId: string, conversationId: string): Promise<ConversationView> {
    const [row] = await rowsOf<ConversationRow>(
      this.dataSource,
      `SELECT ${CONVERSATION_COLUMNS} ${CONVERSATION_FROM} WHERE c.merchant_id = $1 AND c.id = $2`,
      [merchantId, conversationId],
    );
    if (!row) {
      await this.merchants.assertExists(merchantId);
      throw new ConversationNotFoundError();
    }
    return conversationView(row);
  }

  private async change(
    merchantId: string,
    conversationId: string,
    assignments: string,
    extra: unknown[] = [],
  ): Promise<void> {
    const rows = await rowsOf<{ id: string }>(
      this.dataSource,
      `UPDATE conversations SET ${assignments} WHERE merchant_id = $1 AND id = $2 RETURNING id`,
      [merchantId, conversationId, ...extra],
    );
    if (rows.length === 0) {
      await this.merchants.assertExists(merchantId);
      throw new ConversationNotFoundError();
    }
  }
}

function conversationView(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    customer: { igsid: row.igsid, username: row.username, name: row.name },
    status: row.status,
    botPaused: row.bot_paused,
    needsHuman: row.needs_human,
    lastMessageAt: row.last_message_at,
    lastCustomerMessageAt: row.last_customer_message_at,
  };
}

function messageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    direction: row.direction,
    sender: row.sender,
    type: row.type,
    text: row.text,
    attachments: row.attachments,
    intent: row.intent,
    deliveryStatus: row.delivery_status,
    deliveryError: row.delivery_error,
    channel: row.channel,
    deleted: row.deleted,
    createdAt: row.occurred_at,
  };
}

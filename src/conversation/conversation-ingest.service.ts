import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import type { MessageAttachment } from 'src/conversation/message.entity';
import { rowsOf } from 'src/database/sql';
import { echoTime, matchEchoToDeliveryPart } from 'src/delivery/echo-match';
import type { MerchantRoute } from 'src/merchant/merchant-directory';
import type {
  CommentEvent,
  EchoEvent,
  InstagramEvent,
  MessageEditEvent,
  MessageEvent,
  PostbackEvent,
  ReactionEvent,
  ReadEvent,
  ReferralEvent,
} from 'src/webhook/instagram-events';

/**
 * The kind under which an edit that came before its message is kept, keyed by the message's id: the
 * message's store takes its text from it (customer-message.batch, and the event-by-event path).
 */
export const EARLY_EDIT = 'message_edit_early';

/** What applying one event did, and what should follow once it is committed. */
export interface IngestResult {
  status: 'applied' | 'ignored';
  note?: string;
  /**
   * The conversation now has something the bot should answer; `owed` when this transaction has
   * already recorded that (conversations.reply_owed_at) with the message.
   */
  answer?: { conversationId: string; owed?: boolean };
  /** A message of this conversation was unsent: its pending reply may have nothing left to answer. */
  recheck?: { conversationId: string };
  /** A customer seen for the first time (their profile can be looked up). */
  newCustomer?: { customerId: string; igsid: string };
}

/** An echo of a Radd send arriving within this long is Radd's own, matched by its text. */
const ECHO_TEXT_MATCH_MS = 2 * 60_000;

const NO_ANSWER_ATTACHMENTS = new Set(['like_heart']);

/**
 * A customer's one conversation, made or brought forward to a message of theirs or to them; `rows`
 * gives (merchant_id, customer_id, last_message_at, last_customer_message_at, reply_owed_at), the
 * last null unless the rows owe a reply (a mark already set stays then).
 */
export function conversationUpsert(rows: string): string {
  return `INSERT INTO conversations (merchant_id, customer_id, last_message_at, last_customer_message_at, reply_owed_at)
       ${rows}
       ON CONFLICT (merchant_id, customer_id) DO UPDATE SET
         last_message_at = GREATEST(conversations.last_message_at, EXCLUDED.last_message_at),
         last_customer_message_at = GREATEST(conversations.last_customer_message_at, EXCLUDED.last_customer_message_at),
         status = CASE WHEN EXCLUDED.last_customer_message_at IS NULL THEN conversations.status ELSE 'open' END,
         reply_owed_at = COALESCE(EXCLUDED.reply_owed_at, conversations.reply_owed_at),
         updated_at = now()
       RETURNING id, customer_id`;
}

const CONVERSATION_UPSERT = conversationUpsert('VALUES ($1, $2, $3, $4, NULL::timestamptz)');

/** How a customer's Instagram message is stored, and whether the bot should answer it. */
export function customerMessageFields(
  event: MessageEvent,
  merchant: MerchantRoute,
): {
  type: string;
  text: string | null;
  attachments: MessageAttachment[];
  meta: Record<string, unknown>;
  answerable: boolean;
} {
  const type = event.isUnsupported
    ? 'unsupported'
    : event.text !== undefined || event.attachments.length === 0
      ? 'text'
      : (event.attachments[0]?.type ?? 'text');
  const answerable =
    !event.isUnsupported &&
    (event.text !== undefined ||
      event.attachments.some((attachment) => !NO_ANSWER_ATTACHMENTS.has(attachment.type))) &&
    (!event.standby || merchant.deliveryChannel === 'manychat');
  return {
    type,
    text: event.text ?? null,
    attachments: event.attachments,
    meta: compact({
      replyTo: event.replyTo,
      quickReplyPayload: event.quickReplyPayload,
      referral: event.referral,
      standby: event.standby || undefined,
    }),
    answerable,
  };
}

/**
 * Writes Instagram events into customers, conversations and messages, inside the caller's
 * transaction. Every write is an upsert or guarded by a unique key, so two events racing for a new
 * customer make one customer and one conversation.
 */
@Injectable()
export class ConversationIngestService {
  constructor(@Inject(behaviourConfig.KEY) private readonly behaviour: BehaviourConfig) {}

  async apply(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: InstagramEvent,
  ): Promise<IngestResult> {
    switch (event.kind) {
      case 'message':
        return this.customerMessage(manager, merchant, event);
      case 'postback':
        return this.postback(manager, merchant, event);
      case 'referral':
        return this.referral(manager, merchant, event);
      case 'echo':
        return this.echo(manager, merchant, event);
      case 'message_deleted':
        return this.deleted(manager, merchant.id, event.mid);
      case 'message_edit':
        return this.edited(manager, merchant.id, event);
      case 'reaction':
        return this.reaction(manager, merchant, event);
      case 'read':
        return this.read(manager, merchant, event);
      case 'comment':
      case 'live_comment':
        return this.comment(manager, merchant, event);
      case 'mention':
        return { status: 'ignored', note: 'mention recorded; nothing to answer' };
      case 'unknown':
        return {
          status: 'ignored',
          note: `unknown event${event.field ? ` (${event.field})` : ''}`,
        };
    }
  }

  /**
   * A customer message forwarded by the merchant's ManyChat flow. The subscriber id is remembered
   * on the customer, matched to their Instagram identity through `ig_id` when ManyChat gives it, so
   * both paths share one conversation (and one burst). A repeat of the same text from the same
   * subscriber within a few seconds is ManyChat calling twice, not the customer.
   */
  async manyChatMessage(
    manager: EntityManager,
    merchant: MerchantRoute,
    inbound: { subscriberId: string; igId?: string; igUsername?: string; text: string },
    timestamp: number,
  ): Promise<IngestResult> {
    const customer = await this.manyChatCustomer(manager, merchant.id, inbound);
    const thread = await this.conversationFor(manager, merchant.id, customer.id, timestamp, true);
    const repeated = await rowsOf<{ id: string }>(
      manager,
      `SELECT id FROM messages
        WHERE conversation_id = $1 AND direction = 'in' AND text = $2 AND meta->>'via' = 'manychat'
          AND occurred_at > $3::timestamptz - interval '5 seconds'`,
      [thread, inbound.text, new Date(timestamp)],
    );
    if (repeated.length > 0) return { status: 'ignored', note: 'the same ManyChat message again' };
    await this.insertMessage(manager, {
      merchantId: merchant.id,
      conversationId: thread,
      direction: 'in',
      sender: 'customer',
      type: 'text',
      text: inbound.text,
      attachments: [],
      mid: null,
      occurredAt: timestamp,
      meta: { via: 'manychat', subscriberId: inbound.subscriberId },
      owesReply: 'always',
    });
    return {
      status: 'applied',
      answer: { conversationId: thread, owed: true },
      newCustomer:
        customer.created && customer.igsid
          ? { customerId: customer.id, igsid: customer.igsid }
          : undefined,
    };
  }

  /** The conversation of a customer known by IGSID or ManyChat subscriber id, if there is one. */
  async conversationOf(
    manager: EntityManager,
    merchantId: string,
    customer: { igsid: string } | { subscriberId: string },
  ): Promise<string | null> {
    const [column, value] =
      'igsid' in customer
        ? ['igsid', customer.igsid]
        : ['manychat_subscriber_id', customer.subscriberId];
    const rows = await rowsOf<{ id: string }>(
      manager,
      `SELECT c.id FROM conversations c JOIN customers cu ON cu.id = c.customer_id
        WHERE cu.merchant_id = $1 AND cu.${column} = $2`,
      [merchantId, value],
    );
    return rows[0]?.id ?? null;
  }

  private async customerMessage(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: MessageEvent,
  ): Promise<IngestResult> {
    if (event.fromBusiness) {
      return { status: 'ignored', note: 'message from the business without is_echo' };
    }
    const thread = await this.thread(manager, merchant.id, event.customerId, event.timestamp, true);
    const { answerable: asks, ...fields } = customerMessageFields(event, merchant);
    // Meta does not keep webhooks in order: the customer may have unsent or edited it already.
    const { unsent, edit } = await this.amendedBefore(manager, event.accountId, event.mid);
    const answerable = asks && !unsent;
    const inserted = await this.insertMessage(manager, {
      merchantId: merchant.id,
      conversationId: thread.conversationId,
      direction: 'in',
      sender: 'customer',
      ...fields,
      ...(edit && {
        text: edit.text,
        meta: { ...fields.meta, editCount: edit.editCount, editedAt: new Date().toISOString() },
      }),
      mid: event.mid,
      occurredAt: event.timestamp,
      deleted: unsent,
      owesReply: answerable ? 'if-stored' : undefined,
    });
    return {
      status: inserted ? 'applied' : 'ignored',
      note: inserted
        ? unsent
          ? 'stored deleted: its deletion came first'
          : undefined
        : 'message already stored',
      answer:
        inserted && answerable ? { conversationId: thread.conversationId, owed: true } : undefined,
      newCustomer: thread.customerCreated
        ? { customerId: thread.customerId, igsid: event.customerId }
        : undefined,
    };
  }

  private async postback(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: PostbackEvent,
  ): Promise<IngestResult> {
    const thread = await this.thread(manager, merchant.id, event.customerId, event.timestamp, true);
    await this.insertMessage(manager, {
      merchantId: merchant.id,
      conversationId: thread.conversationId,
      direction: 'in',
      sender: 'customer',
      type: 'postback',
      text: event.title ?? null,
      attachments: [],
      mid: event.mid ?? null,
      occurredAt: event.timestamp,
      meta: compact({ payload: event.payload, referral: event.referral }),
    });
    return {
      status: 'applied',
      answer:
        event.standby && merchant.deliveryChannel !== 'manychat'
          ? undefined
          : { conversationId: thread.conversationId },
      newCustomer: thread.customerCreated
        ? { customerId: thread.customerId, igsid: event.customerId }
        : undefined,
    };
  }

  private async referral(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: ReferralEvent,
  ): Promise<IngestResult> {
    const thread = await this.thread(manager, merchant.id, event.customerId, event.timestamp, true);
    await this.insertMessage(manager, {
      merchantId: merchant.id,
      conversationId: thread.conversationId,
      direction: 'in',
      sender: 'customer',
      type: 'referral',
      text: null,
      attachments: [],
      mid: null,
      occurredAt: event.timestamp,
      meta: { referral: event.referral },
    });
    return {
      status: 'applied',
      newCustomer: thread.customerCreated
        ? { customerId: thread.customerId, igsid: event.customerId }
        : undefined,
    };
  }

  /**
   * The business sent a message. Radd's own send (matched by the provider's message id, else by its
   * text within two minutes) is marked delivered; anything else was typed by a person in Instagram:
   * it is stored as theirs and the bot steps back in that conversation.
   */
  private async echo(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: EchoEvent,
  ): Promise<IngestResult> {
    if (event.isSelf) return { status: 'ignored', note: 'test message to the account itself' };
    const thread = await this.thread(
      manager,
      merchant.id,
      event.customerId,
      event.timestamp,
      false,
    );
    const at = echoTime(event.timestamp);
    const part = await matchEchoToDeliveryPart(manager, merchant.id, thread.conversationId, {
      mid: event.mid,
      text: event.text,
      hasImage: event.attachments.some((attachment) => attachment.type === 'image'),
      at,
    });
    if (part) return { status: 'applied', note: `echo of a Radd send (${part})` };
    const matched = await rowsOf<{ id: string }>(
      manager,
      `UPDATE messages SET mid = $3, delivery_status = 'delivered'
        WHERE id = (
          SELECT id FROM messages
           WHERE merchant_id = $1 AND conversation_id = $2 AND direction = 'out' AND mid IS NULL
             AND delivery_status IN ('queued', 'sent', 'unknown')
             AND (provider_message_id = $3
                  OR ($4::text IS NOT NULL AND text = $4
                      AND created_at BETWEEN $6::timestamptz - make_interval(secs => $5)
                                         AND $6::timestamptz + make_interval(secs => $5)))
           ORDER BY (provider_message_id = $3) DESC NULLS LAST, created_at
           LIMIT 1 FOR UPDATE)
        RETURNING id`,
      [
        merchant.id,
        thread.conversationId,
        event.mid,
        event.text ?? null,
        ECHO_TEXT_MATCH_MS / 1000,
        at.toISOString(),
      ],
    );
    if (matched.length > 0) return { status: 'applied', note: 'echo of a Radd send' };

    const inserted = await this.insertMessage(manager, {
      merchantId: merchant.id,
      conversationId: thread.conversationId,
      direction: 'out',
      sender: 'human',
      type:
        event.text !== undefined || event.attachments.length === 0
          ? 'text'
          : (event.attachments[0]?.type ?? 'text'),
      text: event.text ?? null,
      attachments: event.attachments,
      mid: event.mid,
      occurredAt: event.timestamp,
      channel: 'instagram',
      deliveryStatus: 'delivered',
      meta: { source: 'instagram_app' },
    });
    if (!inserted) return { status: 'ignored', note: 'echo already stored' };
    // The person answered what the customer had said so far: the bot must not answer it again.
    await manager.query(
      `UPDATE messages SET answered_by = (SELECT id FROM messages WHERE merchant_id = $1 AND mid = $2)
        WHERE conversation_id = $3 AND direction = 'in' AND answered_by IS NULL AND occurred_at <= $4`,
      [merchant.id, event.mid, thread.conversationId, new Date(event.timestamp)],
    );
    await manager.query(
      `UPDATE conversations
          SET bot_paused_until = GREATEST(bot_paused_until, now() + make_interval(mins => $2)), updated_at = now()
        WHERE id = $1`,
      [thread.conversationId, this.behaviour.botPauseOnHumanMinutes],
    );
    return { status: 'applied', note: 'a person replied from Instagram; bot paused' };
  }

  private async deleted(
    manager: EntityManager,
    merchantId: string,
    mid: string,
  ): Promise<IngestResult> {
    const rows = await rowsOf<{ conversation_id: string }>(
      manager,
      `UPDATE messages SET deleted = true WHERE merchant_id = $1 AND mid = $2 RETURNING conversation_id`,
      [merchantId, mid],
    );
    const conversationId = rows[0]?.conversation_id;
    if (!conversationId) {
      return {
        status: 'ignored',
        note: 'deleted before its message came; the message will be stored deleted',
      };
    }
    return { status: 'applied', recheck: { conversationId } };
  }

  /** What came before the message itself: its deletion, its latest edit (EARLY_EDIT). */
  private async amendedBefore(
    manager: EntityManager,
    accountId: string,
    mid: string,
  ): Promise<{ unsent: boolean; edit?: { text: string; editCount: number } }> {
    const rows = await rowsOf<{ kind: string; payload: { text: string; editCount: number } }>(
      manager,
      `SELECT kind, payload FROM inbound_events
        WHERE account_id = $1 AND kind IN ('message_deleted', '${EARLY_EDIT}') AND event_key = $2`,
      [accountId, mid],
    );
    return {
      unsent: rows.some((row) => row.kind === 'message_deleted'),
      edit: rows.find((row) => row.kind === EARLY_EDIT)?.payload,
    };
  }

  private async edited(
    manager: EntityManager,
    merchantId: string,
    event: MessageEditEvent,
  ): Promise<IngestResult> {
    const { mid, text, editCount } = event;
    // Edits may come out of order too: an earlier edit (a lower num_edit) does not undo a later one.
    // The count is read from the row being updated (re-read after a concurrent edit's commit).
    const [row] = await rowsOf<{ found: boolean; updated: boolean }>(
      manager,
      `WITH target AS (
         SELECT id FROM messages WHERE merchant_id = $1 AND mid = $2
       ),
       updated AS (
         UPDATE messages m
            SET text = $3, meta = m.meta || jsonb_build_object('editCount', $4::int, 'editedAt', now())
           FROM target t
          WHERE m.id = t.id AND m.merchant_id = $1
            AND ($4 = 0 OR COALESCE((m.meta->>'editCount')::int, 0) < $4)
         RETURNING m.id
       )
       SELECT EXISTS (SELECT 1 FROM target) AS found, EXISTS (SELECT 1 FROM updated) AS updated`,
      [merchantId, mid, text, editCount],
    );
    if (row?.updated) return { status: 'applied' };
    if (row?.found) return { status: 'ignored', note: 'a later edit is applied already' };
    await this.keepEarlyEdit(manager, event);
    return {
      status: 'ignored',
      note: 'edited before its message came; the message will be stored as edited',
    };
  }

  /**
   * An edit of a message not stored yet (Meta does not keep webhooks in order), kept under the
   * message's own id (EARLY_EDIT), the latest edit winning, for the message's store to apply. The
   * row is the edit's own webhook's, and goes with it.
   */
  private async keepEarlyEdit(manager: EntityManager, event: MessageEditEvent): Promise<void> {
    await manager.query(
      `INSERT INTO inbound_events (webhook_event_id, merchant_id, account_id, kind, event_key, status, note, occurred_at, payload)
       SELECT webhook_event_id, merchant_id, account_id, '${EARLY_EDIT}', $3, 'ignored',
              'kept for its message', occurred_at, jsonb_build_object('text', $4::text, 'editCount', $5::int)
         FROM inbound_events WHERE account_id = $1 AND kind = 'message_edit' AND event_key = $2
       ON CONFLICT (account_id, kind, event_key) DO UPDATE SET payload = EXCLUDED.payload
        WHERE (EXCLUDED.payload->>'editCount')::int > (inbound_events.payload->>'editCount')::int`,
      [event.accountId, event.key, event.mid, event.text, event.editCount],
    );
  }

  private async reaction(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: ReactionEvent,
  ): Promise<IngestResult> {
    // A customer's reaction opens the messaging window again (Meta), but is never answered.
    // Meta names reacting only: taking a reaction back opens nothing.
    if (!event.fromBusiness && event.action !== 'unreact') {
      await this.thread(manager, merchant.id, event.customerId, event.timestamp, true);
    }
    const entry = compact({
      action: event.action,
      reaction: event.reaction,
      emoji: event.emoji,
      by: event.fromBusiness ? 'business' : 'customer',
      at: new Date(event.timestamp).toISOString(),
    });
    const rows = await rowsOf<unknown>(
      manager,
      `UPDATE messages
          SET meta = jsonb_set(meta, '{reactions}', COALESCE(meta->'reactions', '[]'::jsonb) || $3::jsonb)
        WHERE merchant_id = $1 AND mid = $2 RETURNING id`,
      [merchant.id, event.mid, JSON.stringify([entry])],
    );
    return rows.length > 0
      ? { status: 'applied' }
      : { status: 'ignored', note: 'reacted-to message is not stored' };
  }

  /** The customer has seen the thread up to this moment: Radd's sends before it are read. */
  private async read(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: ReadEvent,
  ): Promise<IngestResult> {
    const rows = await rowsOf<unknown>(
      manager,
      `UPDATE messages m SET delivery_status = 'read'
         FROM conversations c JOIN customers cu ON cu.id = c.customer_id
        WHERE m.conversation_id = c.id AND cu.merchant_id = $1 AND cu.igsid = $2
          AND m.merchant_id = $1 AND m.direction = 'out' AND m.delivery_status IN ('sent', 'delivered')
          AND m.occurred_at <= GREATEST(to_timestamp($3 / 1000.0),
                (SELECT occurred_at FROM messages WHERE merchant_id = $1 AND mid = $4))
        RETURNING m.id`,
      [merchant.id, event.customerId, event.timestamp, event.mid],
    );
    return { status: 'applied', note: `${rows.length} message(s) read` };
  }

  private async comment(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: CommentEvent,
  ): Promise<IngestResult> {
    const authorId = event.from.selfIgScopedId ?? event.from.id;
    const own = [event.from.id, event.from.selfIgScopedId].some(
      (id) => id !== undefined && (id === merchant.instagramAccountId || id === event.accountId),
    );
    if (own) return { status: 'ignored', note: "the merchant's own comment" };
    if (!authorId) return { status: 'ignored', note: 'comment without an author' };
    const thread = await this.thread(
      manager,
      merchant.id,
      authorId,
      event.timestamp,
      false,
      event.from.username,
    );
    await this.insertMessage(manager, {
      merchantId: merchant.id,
      conversationId: thread.conversationId,
      direction: 'in',
      sender: 'customer',
      type: 'comment',
      text: event.text ?? null,
      attachments: [],
      mid: null,
      occurredAt: event.timestamp,
      meta: compact({
        commentId: event.commentId,
        live: event.kind === 'live_comment' || undefined,
        media: event.media,
        parentId: event.parentId,
      }),
    });
    return {
      status: 'applied',
      answer: event.text ? { conversationId: thread.conversationId } : undefined,
    };
  }

  private async manyChatCustomer(
    manager: EntityManager,
    merchantId: string,
    inbound: { subscriberId: string; igId?: string; igUsername?: string },
  ): Promise<{ id: string; created: boolean; igsid: string | null }> {
    const bySubscriber = await rowsOf<{ id: string; igsid: string | null }>(
      manager,
      `SELECT id, igsid FROM customers WHERE merchant_id = $1 AND manychat_subscriber_id = $2`,
      [merchantId, inbound.subscriberId],
    );
    if (bySubscriber[0]) return { ...bySubscriber[0], created: false };
    if (inbound.igId) {
      // The Instagram customer already known from webhooks takes the subscriber id.
      const [customer] = await rowsOf<{ id: string; created: boolean }>(
        manager,
        `INSERT INTO customers (merchant_id, igsid, manychat_subscriber_id, username) VALUES ($1, $2, $3, $4)
         ON CONFLICT (merchant_id, igsid) WHERE igsid IS NOT NULL
         DO UPDATE SET manychat_subscriber_id = COALESCE(customers.manychat_subscriber_id, EXCLUDED.manychat_subscriber_id),
                       username = COALESCE(customers.username, EXCLUDED.username)
         RETURNING id, (xmax = 0) AS created`,
        [merchantId, inbound.igId, inbound.subscriberId, inbound.igUsername ?? null],
      );
      return { id: customer.id, created: customer.created, igsid: inbound.igId };
    }
    const [customer] = await rowsOf<{ id: string; created: boolean }>(
      manager,
      `INSERT INTO customers (merchant_id, manychat_subscriber_id, username) VALUES ($1, $2, $3)
       ON CONFLICT (merchant_id, manychat_subscriber_id) WHERE manychat_subscriber_id IS NOT NULL
       DO UPDATE SET username = COALESCE(customers.username, EXCLUDED.username)
       RETURNING id, (xmax = 0) AS created`,
      [merchantId, inbound.subscriberId, inbound.igUsername ?? null],
    );
    return { id: customer.id, created: customer.created, igsid: null };
  }

  /**
   * Finds or creates the customer and their conversation and moves the conversation's clocks
   * forward, in one statement (a new customer's conversation refers to the row made beside it).
   */
  private async thread(
    manager: EntityManager,
    merchantId: string,
    igsid: string,
    timestamp: number,
    fromCustomer: boolean,
    username?: string,
  ): Promise<{ customerId: string; customerCreated: boolean; conversationId: string }> {
    const at = new Date(timestamp);
    const [thread] = await rowsOf<{
      customer_id: string;
      created: boolean;
      conversation_id: string;
    }>(
      manager,
      `WITH customer AS (
         INSERT INTO customers (merchant_id, igsid, username) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id, igsid) WHERE igsid IS NOT NULL
         DO UPDATE SET username = COALESCE(EXCLUDED.username, customers.username)
         RETURNING id, (xmax = 0) AS created
       ),
       conversation AS (
         ${conversationUpsert('SELECT $1, customer.id, $4::timestamptz, $5::timestamptz, NULL::timestamptz FROM customer')}
       )
       SELECT customer.id AS customer_id, customer.created, conversation.id AS conversation_id
         FROM customer, conversation`,
      [merchantId, igsid, username ?? null, at, fromCustomer ? at : null],
    );
    return {
      customerId: thread.customer_id,
      customerCreated: thread.created,
      conversationId: thread.conversation_id,
    };
  }

  private async conversationFor(
    manager: EntityManager,
    merchantId: string,
    customerId: string,
    timestamp: number,
    fromCustomer: boolean,
  ): Promise<string> {
    const at = new Date(timestamp);
    const [conversation] = await rowsOf<{ id: string }>(manager, CONVERSATION_UPSERT, [
      merchantId,
      customerId,
      at,
      fromCustomer ? at : null,
    ]);
    return conversation.id;
  }

  /** Inserts a message once: false when its mid is already stored for this merchant. */
  private async insertMessage(
    manager: EntityManager,
    message: {
      merchantId: string;
      conversationId: string;
      direction: 'in' | 'out';
      sender: 'customer' | 'bot' | 'human';
      type: string;
      text: string | null;
      attachments: MessageAttachment[];
      mid: string | null;
      occurredAt: number;
      meta: Record<string, unknown>;
      channel?: 'instagram' | 'manychat';
      deliveryStatus?: 'delivered';
      /** Stored as unsent by the customer. */
      deleted?: boolean;
      /**
       * Records, with the message, that its conversation is owed a reply (what the reply sweeper
       * queues again from if the ai-response job is lost): always, or only if the message is new.
       */
      owesReply?: 'always' | 'if-stored';
    },
  ): Promise<boolean> {
    const rows = await rowsOf<unknown>(
      manager,
      `WITH inserted AS (
         INSERT INTO messages
           (merchant_id, conversation_id, direction, sender, type, text, attachments, mid, meta, occurred_at, channel, delivery_status, deleted)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14)
         ON CONFLICT (merchant_id, mid) WHERE mid IS NOT NULL DO NOTHING
         RETURNING id
       ),
       owed AS (
         UPDATE conversations SET reply_owed_at = clock_timestamp()
          WHERE id = $2 AND merchant_id = $1
            AND ($13 = 'always' OR ($13 = 'if-stored' AND EXISTS (SELECT 1 FROM inserted)))
       )
       SELECT id FROM inserted`,
      [
        message.merchantId,
        message.conversationId,
        message.direction,
        message.sender,
        message.type,
        message.text,
        JSON.stringify(message.attachments),
        message.mid,
        JSON.stringify(message.meta),
        new Date(message.occurredAt),
        message.channel ?? null,
        message.deliveryStatus ?? null,
        message.owesReply ?? 'never',
        message.deleted ?? false,
      ],
    );
    return rows.length > 0;
  }
}

/** The object without its undefined fields (so stored JSON holds only what the event said). */
function compact<T extends Record<string, unknown>>(value: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
}

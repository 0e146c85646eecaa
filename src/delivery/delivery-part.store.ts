import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type {
  MessageAttachment,
  MessageChannel,
  MessageSender,
} from 'src/conversation/message.entity';
import { MicroBatcher } from 'src/common/micro-batcher';
import { rowsOf } from 'src/database/sql';
import { isUniqueViolation } from 'src/database/unique-violation';
import type { PartKind, PartStatus } from 'src/delivery/delivery-part.entity';
import type { OutboundItem } from 'src/delivery/outbound';

/** An outbound message with what delivery needs of its conversation, customer and merchant. */
export interface OutboundMessage {
  id: string;
  merchantId: string;
  conversationId: string;
  customerId: string;
  sender: MessageSender;
  text: string | null;
  attachments: MessageAttachment[];
  meta: Record<string, unknown>;
  channel: MessageChannel | null;
  deliveryStatus: string | null;
  lastCustomerMessageAt: Date | null;
  igsid: string | null;
  subscriberId: string | null;
  merchantChannel: MessageChannel;
  needsReauth: boolean;
  subscriberField: string | null;
  hasInstagramToken: boolean;
  /** The customer's latest message came as `standby` (another app owns the thread). */
  standby: boolean;
  /** Its parts are written (an earlier run planned it). */
  planned: boolean;
  /** The merchant's ManyChat API key as stored (encrypted), if it has one. */
  sealedManychatKey: string | null;
}

export interface PartRow {
  id: string;
  seq: number;
  kind: PartKind;
  text: string | null;
  imageUrl: string | null;
  commentId: string | null;
  status: PartStatus;
  providerMessageId: string | null;
  attemptedAt: Date | null;
  unknownSince: Date | null;
}

export function itemOf(part: PartRow): OutboundItem {
  return part.kind === 'image'
    ? { kind: 'image', url: part.imageUrl ?? '' }
    : { kind: 'text', text: part.text ?? '' };
}

/** A second private reply to the same comment was refused by the unique key. */
export class CommentAlreadyAnsweredError extends Error {}

interface PartsMark {
  messageId: string;
  ids: string[];
}

interface SendingMark extends PartsMark {
  /** This run's attempt, written with the mark (`attempt_id`). */
  attempt: string;
}

interface SentMark extends PartsMark {
  providerMessageId: string | null;
  last: boolean;
}

/** Marks written by one statement at most, and statements of one kind in flight at once. */
const MARK_BATCHES = { maxSize: 64, parallel: 2 };
/** Lost sending marks remembered at most (the oldest is forgotten first). */
const LOST_MARKS_KEPT = 10_000;

/**
 * The marks split in two: the first of each message, which one statement can write together, and
 * the others, written one by one after them (two runs of one message meeting; rare).
 */
function byMessage<T extends { messageId: string }>(marks: T[]): [T[], T[]] {
  const seen = new Set<string>();
  const first: T[] = [];
  const again: T[] = [];
  for (const mark of marks) {
    (seen.has(mark.messageId) ? again : first).push(mark);
    seen.add(mark.messageId);
  }
  return [first, again];
}

const PART_COLUMNS = `id, seq, kind, text, image_url AS "imageUrl", comment_id AS "commentId", status,
  provider_message_id AS "providerMessageId", attempted_at AS "attemptedAt", unknown_since AS "unknownSince"`;

/**
 * The delivery records (`delivery_parts`) and the delivery state of outbound messages. Every
 * change of a part is one guarded statement, so a record never moves backwards (an echo that
 * already confirmed a part is never overwritten by the send's own answer).
 */
@Injectable()
export class DeliveryPartStore {
  /** Per message: the attempt of this process's latest `sending` mark whose answer was lost. */
  private readonly lostMarks = new Map<string, string>();
  private readonly sendingMarks = new MicroBatcher<SendingMark, boolean>(
    (marks) => this.markSendingMany(marks),
    MARK_BATCHES,
  );
  private readonly sentMarks = new MicroBatcher<SentMark, void>(
    (marks) => this.markSentMany(marks),
    MARK_BATCHES,
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(merchantId: string, messageId: string): Promise<OutboundMessage | null> {
    const [row] = await rowsOf<OutboundMessage>(
      this.dataSource,
      `SELECT m.id, m.merchant_id AS "merchantId", m.conversation_id AS "conversationId",
              cu.id AS "customerId", m.sender, m.text, m.attachments, m.meta, m.channel,
              m.delivery_status AS "deliveryStatus",
              c.last_customer_message_at AS "lastCustomerMessageAt", cu.igsid,
              cu.manychat_subscriber_id AS "subscriberId", me.delivery_channel AS "merchantChannel",
              me.needs_reauth AS "needsReauth", me.manychat_subscriber_field AS "subscriberField",
              (me.instagram_access_token IS NOT NULL) AS "hasInstagramToken",
              COALESCE((SELECT (i.meta->>'standby')::boolean FROM messages i
                         WHERE i.conversation_id = m.conversation_id AND i.direction = 'in'
                         ORDER BY i.occurred_at DESC LIMIT 1), false) AS standby,
              EXISTS (SELECT 1 FROM delivery_parts p WHERE p.message_id = m.id) AS planned,
              me.manychat_api_key AS "sealedManychatKey"
         FROM messages m
         JOIN conversations c ON c.id = m.conversation_id
         JOIN customers cu ON cu.id = c.customer_id
         JOIN merchants me ON me.id = m.merchant_id
        WHERE m.id = $1 AND m.merchant_id = $2 AND m.direction = 'out'`,
      [messageId, merchantId],
    );
    return row ?? null;
  }

  /** When the customer wrote the comment a private reply answers (null: not stored). */
  async commentTime(merchantId: string, conversationId: string, commentId: string) {
    const [row] = await rowsOf<{ occurred_at: Date }>(
      this.dataSource,
      `SELECT occurred_at FROM messages
        WHERE merchant_id = $1 AND conversation_id = $2 AND type = 'comment' AND meta->>'commentId' = $3
        ORDER BY occurred_at LIMIT 1`,
      [merchantId, conversationId, commentId],
    );
    return row?.occurred_at ?? null;
  }

  async parts(messageId: string): Promise<PartRow[]> {
    return rowsOf<PartRow>(
      this.dataSource,
      `SELECT ${PART_COLUMNS} FROM delivery_parts WHERE message_id = $1 ORDER BY seq`,
      [messageId],
    );
  }

  /**
   * Writes the message's parts and its channel once (a second call finds them written). The
   * first `claim` parts are written `sending`, as `markSending` would leave them: `claimed` holds
   * those this call wrote. Throws CommentAlreadyAnsweredError when another message already
   * privately replied to the comment.
   */
  async plan(
    message: OutboundMessage,
    channel: MessageChannel,
    items: OutboundItem[],
    commentId: string | undefined,
    claim = 0,
  ): Promise<{ parts: PartRow[]; claimed: Set<string> }> {
    let written: PartRow[];
    try {
      // One statement: the channel and every part, or nothing.
      written = await rowsOf<PartRow>(
        this.dataSource,
        `WITH channel AS (
           UPDATE messages SET channel = $2 WHERE id = $1 AND channel IS DISTINCT FROM $2
         )
         INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, image_url, comment_id,
                                     status, attempts, attempted_at)
         SELECT $3, $1, t.seq - 1, t.kind, t.text, t.image_url, CASE WHEN t.seq = 1 THEN $7 END,
                CASE WHEN t.seq <= $8 THEN 'sending' ELSE 'pending' END, CASE WHEN t.seq <= $8 THEN 1 ELSE 0 END,
                CASE WHEN t.seq <= $8 THEN now() END
           FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(kind, text, image_url, seq)
         ON CONFLICT (message_id, seq) DO NOTHING
         RETURNING ${PART_COLUMNS}`,
        [
          message.id,
          channel,
          message.merchantId,
          items.map((item) => item.kind),
          items.map((item) => (item.kind === 'text' ? item.text : null)),
          items.map((item) => (item.kind === 'image' ? item.url : null)),
          commentId ?? null,
          claim,
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error, 'uq_delivery_parts_comment')) {
        throw new CommentAlreadyAnsweredError();
      }
      throw error;
    }
    const claimed = new Set(
      written.filter((part) => part.status === 'sending').map((part) => part.id),
    );
    // Another run wrote some first: read them all.
    if (written.length < items.length) return { parts: await this.parts(message.id), claimed };
    return { parts: written.sort((a, b) => a.seq - b.seq), claimed };
  }

  /**
   * Parts left `sending` by an earlier run that never recorded the answer (a crash): their
   * outcome is unknown. Returns how many.
   */
  async settleCrashed(messageId: string): Promise<number> {
    // A mark of this process whose answer was lost: no call followed it, so its parts go now.
    const lost = this.lostMarks.get(messageId);
    if (lost) {
      await this.dataSource.query(
        `UPDATE delivery_parts SET status = 'pending', updated_at = now(),
                error = 'the answer to its sending mark was lost: it was not sent'
          WHERE message_id = $1 AND status = 'sending' AND attempt_id = $2`,
        [messageId, lost],
      );
      this.lostMarks.delete(messageId);
    }
    const rows = await rowsOf<unknown>(
      this.dataSource,
      `UPDATE delivery_parts SET status = 'unknown', unknown_since = now(), updated_at = now(),
              error = 'the outcome of the send was lost'
        WHERE message_id = $1 AND status = 'sending' RETURNING id`,
      [messageId],
    );
    return rows.length;
  }

  /**
   * Unknown parts that went out in one call with a part whose echo arrived were accepted too;
   * unknown parts whose wait for an echo is over are sent again.
   */
  async reconcile(messageId: string, waitMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery_parts p SET status = 'sent', error = NULL, updated_at = now()
        WHERE p.message_id = $1 AND p.status = 'unknown' AND EXISTS (
          SELECT 1 FROM delivery_parts q WHERE q.message_id = p.message_id
             AND q.status = 'delivered' AND q.attempted_at = p.attempted_at)`,
      [messageId],
    );
    await this.dataSource.query(
      `UPDATE delivery_parts SET status = 'pending', updated_at = now(),
              error = 'no echo within the wait: sent again'
        WHERE message_id = $1 AND status = 'unknown'
          AND unknown_since <= now() - make_interval(secs => $2)`,
      [messageId, waitMs / 1000],
    );
  }

  /**
   * Marks the parts as handed to the provider; false when one of them was not pending. Marks of
   * concurrent sends are written together (see MicroBatcher): each caller still waits for its own
   * commit, right before its call.
   */
  async markSending(messageId: string, ids: string[]): Promise<boolean> {
    const attempt = randomUUID();
    try {
      return await this.sendingMarks.submit({ messageId, ids, attempt });
    } catch (error) {
      // Its commit may have happened all the same; no call follows it either way.
      this.lostMarks.delete(messageId);
      this.lostMarks.set(messageId, attempt);
      if (this.lostMarks.size > LOST_MARKS_KEPT) {
        this.lostMarks.delete(this.lostMarks.keys().next().value as string);
      }
      throw error;
    }
  }

  /**
   * The provider accepted the parts (an echo may have confirmed them already). With `last`, they
   * were the message's last open parts: the message is finished in the same statement (see
   * `finish`; the parts it reads are as before this statement, which decides the same: a part
   * marked here is `sent` unless it was `delivered` already). Written together with the marks of
   * concurrent sends, as `markSending`.
   */
  markSent(
    messageId: string,
    ids: string[],
    providerMessageId: string | undefined,
    last: boolean,
  ): Promise<void> {
    return this.sentMarks.submit({
      messageId,
      ids,
      providerMessageId: providerMessageId ?? null,
      last,
    });
  }

  private async markSendingMany(marks: SendingMark[]): Promise<boolean[]> {
    const [first, again] = byMessage(marks);
    const results = new Map<SendingMark, boolean>();
    if (first.length === 1) {
      results.set(first[0], await this.markSendingOne(first[0]));
    } else {
      const rows = await rowsOf<{ message_id: string }>(
        this.dataSource,
        `UPDATE delivery_parts p SET status = 'sending', attempts = p.attempts + 1,
                attempted_at = now(), attempt_id = t.attempt, unknown_since = NULL, updated_at = now()
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS t(message_id, id, attempt)
          WHERE p.message_id = t.message_id AND p.id = t.id AND p.status = 'pending'
          RETURNING p.message_id`,
        [
          first.flatMap((mark) => mark.ids.map(() => mark.messageId)),
          first.flatMap((mark) => mark.ids),
          first.flatMap((mark) => mark.ids.map(() => mark.attempt)),
        ],
      );
      const marked = new Map<string, number>();
      for (const row of rows) marked.set(row.message_id, (marked.get(row.message_id) ?? 0) + 1);
      for (const mark of first) {
        results.set(mark, (marked.get(mark.messageId) ?? 0) === mark.ids.length);
      }
    }
    for (const mark of again) results.set(mark, await this.markSendingOne(mark));
    return marks.map((mark) => results.get(mark) ?? false);
  }

  private async markSendingOne({ messageId, ids, attempt }: SendingMark): Promise<boolean> {
    // `message_id` leads for the same reason as in `markSentOne`: a generic plan, not one per call.
    const rows = await rowsOf<unknown>(
      this.dataSource,
      `UPDATE delivery_parts SET status = 'sending', attempts = attempts + 1, attempted_at = now(),
              attempt_id = $3, unknown_since = NULL, updated_at = now()
        WHERE message_id = $2 AND id = ANY($1::uuid[]) AND status = 'pending' RETURNING id`,
      [ids, messageId, attempt],
    );
    return rows.length === ids.length;
  }

  private async markSentMany(marks: SentMark[]): Promise<void[]> {
    const [first, again] = byMessage(marks);
    if (first.length === 1) {
      await this.markSentOne(first[0]);
    } else {
      await this.dataSource.query(
        `WITH marks AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::boolean[]) AS m(message_id, provider_message_id, last)
         ), parts AS (
           UPDATE delivery_parts p
              SET status = CASE WHEN p.status = 'delivered' THEN p.status ELSE 'sent' END,
                  provider_message_id = COALESCE(m.provider_message_id, p.provider_message_id),
                  error = NULL, updated_at = now()
             FROM unnest($4::uuid[], $5::uuid[]) AS t(message_id, id)
             JOIN marks m ON m.message_id = t.message_id
            WHERE p.message_id = t.message_id AND p.id = t.id
         )
         UPDATE messages msg
            SET provider_message_id = COALESCE(msg.provider_message_id, m.provider_message_id),
                delivery_error = CASE WHEN m.last THEN NULL ELSE msg.delivery_error END,
                delivery_status = CASE
                  WHEN NOT m.last OR msg.delivery_status IN ('read', 'delivered') THEN msg.delivery_status
                  WHEN NOT EXISTS (SELECT 1 FROM delivery_parts q WHERE q.message_id = msg.id AND q.status <> 'delivered')
                    THEN 'delivered'
                  ELSE 'sent' END
           FROM marks m
          WHERE msg.id = m.message_id AND (m.last OR m.provider_message_id IS NOT NULL)`,
        [
          first.map((mark) => mark.messageId),
          first.map((mark) => mark.providerMessageId),
          first.map((mark) => mark.last),
          first.flatMap((mark) => mark.ids.map(() => mark.messageId)),
          first.flatMap((mark) => mark.ids),
        ],
      );
    }
    for (const mark of again) await this.markSentOne(mark);
    return marks.map(() => undefined);
  }

  private async markSentOne({ messageId, ids, providerMessageId, last }: SentMark): Promise<void> {
    // `message_id = $3` leads: PostgreSQL costs `id = ANY($1)` as ten ids, so without it the
    // prepared statement never got a generic plan and was planned again on every call.
    await this.dataSource.query(
      `WITH parts AS (
         UPDATE delivery_parts
            SET status = CASE WHEN status = 'delivered' THEN status ELSE 'sent' END,
                provider_message_id = COALESCE($2, provider_message_id), error = NULL, updated_at = now()
          WHERE message_id = $3 AND id = ANY($1::uuid[])
       )
       UPDATE messages m
          SET provider_message_id = COALESCE(m.provider_message_id, $2),
              delivery_error = CASE WHEN $4 THEN NULL ELSE m.delivery_error END,
              delivery_status = CASE
                WHEN NOT $4 OR m.delivery_status IN ('read', 'delivered') THEN m.delivery_status
                WHEN NOT EXISTS (SELECT 1 FROM delivery_parts p WHERE p.message_id = m.id AND p.status <> 'delivered')
                  THEN 'delivered'
                ELSE 'sent' END
        WHERE m.id = $3 AND ($4 OR $2::text IS NOT NULL)`,
      [ids, providerMessageId, messageId, last],
    );
  }

  /** Not accepted, to be tried again. */
  async markPending(ids: string[], error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery_parts SET status = 'pending', error = $2, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'sending'`,
      [ids, error],
    );
  }

  /** The answer was lost: the parts wait for their echo. */
  async markUnknown(messageId: string, ids: string[], error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery_parts SET status = 'unknown', unknown_since = now(), error = $2, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'sending'`,
      [ids, error],
    );
    await this.setStatus(messageId, 'unknown', null, ['queued', 'unknown']);
  }

  /** Nothing more of this message will be sent: open parts fail, and so does the message. */
  async fail(messageId: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery_parts SET status = 'failed', error = $2, updated_at = now()
        WHERE message_id = $1 AND status IN ('pending', 'sending')`,
      [messageId, error],
    );
    await this.setStatus(messageId, 'failed', error, ['queued', 'unknown']);
  }

  /**
   * The job gave up (attempts exhausted, or the worker crashed too often): parts whose send may
   * have gone out stay unknown for their echo; the rest fail.
   */
  async giveUp(messageId: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE delivery_parts SET status = 'unknown', unknown_since = COALESCE(unknown_since, now()), updated_at = now()
        WHERE message_id = $1 AND status = 'sending'`,
      [messageId],
    );
    await this.dataSource.query(
      `UPDATE delivery_parts SET status = 'failed', error = $2, updated_at = now()
        WHERE message_id = $1 AND status = 'pending'`,
      [messageId, error],
    );
    const [unknown] = await rowsOf<{ count: number }>(
      this.dataSource,
      `SELECT count(*)::int AS count FROM delivery_parts WHERE message_id = $1 AND status = 'unknown'`,
      [messageId],
    );
    await this.setStatus(messageId, (unknown?.count ?? 0) > 0 ? 'unknown' : 'failed', error, [
      'queued',
      'unknown',
    ]);
  }

  /** Every part is accepted: the message is `sent`, or `delivered` when every echo came. */
  async finish(messageId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE messages m SET delivery_error = NULL,
              delivery_status = CASE
                WHEN m.delivery_status IN ('read', 'delivered') THEN m.delivery_status
                WHEN NOT EXISTS (SELECT 1 FROM delivery_parts p WHERE p.message_id = m.id AND p.status <> 'delivered')
                  THEN 'delivered'
                ELSE 'sent' END
        WHERE m.id = $1`,
      [messageId],
    );
  }

  /** Sets the message's delivery status (and error) when it is in one of `from`. */
  async setStatus(
    messageId: string,
    status: 'queued' | 'unknown' | 'failed',
    error: string | null,
    from: string[],
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE messages SET delivery_status = $2, delivery_error = $3
        WHERE id = $1 AND delivery_status = ANY($4::text[])`,
      [messageId, status, error, from],
    );
  }

  /** Remembers a ManyChat subscriber id found for the customer (unless another has it). */
  async rememberSubscriber(merchantId: string, customerId: string, subscriberId: string) {
    try {
      await this.dataSource.query(
        `UPDATE customers SET manychat_subscriber_id = $3
          WHERE id = $2 AND merchant_id = $1 AND manychat_subscriber_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM customers WHERE merchant_id = $1 AND manychat_subscriber_id = $3)`,
        [merchantId, customerId, subscriberId],
      );
    } catch (error) {
      // Another customer row took it meanwhile (its ManyChat inbound message): keep theirs.
      if (!isUniqueViolation(error, 'uq_customers_merchant_manychat')) throw error;
    }
  }
}

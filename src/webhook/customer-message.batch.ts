import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  EARLY_EDIT,
  conversationUpsert,
  customerMessageFields,
  type IngestResult,
} from 'src/conversation/conversation-ingest.service';
import { COMMIT_WITHOUT_WAITING } from 'src/database/sql';
import type { MerchantRoute } from 'src/merchant/merchant-directory';
import type { InstagramEvent, MessageEvent } from 'src/webhook/instagram-events';

/** A customer's message to a known merchant, from one stored webhook. */
export interface CustomerMessage {
  webhookEventId: string;
  merchant: MerchantRoute;
  event: MessageEvent;
}

/**
 * Records each event's identity and, for each one recorded now, finds or creates the customer and
 * the conversation, moves its clocks forward, records that a reply is owed and stores the message:
 * all of it in one statement. Meta does not keep webhooks in order: a message whose deletion came
 * first is stored deleted and owes no reply, and one whose edit came first is stored as edited
 * (two probes of `inbound_events`' unique key). Events repeated within the input or recorded
 * before are left out; `fresh` keeps the first of each identity. A customer's several messages make one customer and one
 * conversation row each (a statement may not change a row twice). Rows are written in the order of
 * (account, customer), the order every ingestion transaction takes them in, so none deadlock.
 * Its commit does not wait for the disk (COMMIT_WITHOUT_WAITING): the webhooks' status update
 * commits durably before their job ends, and a reply's parts are marked `sending` durably before
 * it is sent, so a crash that loses these rows leaves the webhooks `received`, to be processed again.
 */
const STORE_CUSTOMER_MESSAGES = `
  WITH input AS (
    SELECT i.*, EXISTS (SELECT 1 FROM messages m WHERE m.merchant_id = i.merchant_id AND m.mid = i.mid) AS stored_before,
           EXISTS (SELECT 1 FROM inbound_events d
                    WHERE d.account_id = i.account_id AND d.kind = 'message_deleted' AND d.event_key = i.mid) AS unsent,
           (SELECT e.payload FROM inbound_events e
             WHERE e.account_id = i.account_id AND e.kind = '${EARLY_EDIT}' AND e.event_key = i.mid) AS early_edit
      FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[],
                  $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[])
           WITH ORDINALITY AS i(webhook_event_id, merchant_id, account_id, mid, occurred_at, payload,
                                igsid, type, text, attachments, meta, answerable, n)
  ),
  recorded AS (
    INSERT INTO inbound_events (webhook_event_id, merchant_id, account_id, kind, event_key, status, note, occurred_at, payload)
    SELECT webhook_event_id, merchant_id, account_id, 'message', mid,
           CASE WHEN stored_before THEN 'ignored' ELSE 'applied' END,
           CASE WHEN stored_before THEN 'message already stored' END,
           occurred_at, payload::jsonb
      FROM input ORDER BY account_id, mid, n
    ON CONFLICT (account_id, kind, event_key) DO NOTHING
    RETURNING webhook_event_id, account_id, event_key
  ),
  fresh AS (
    SELECT DISTINCT ON (i.account_id, i.mid) i.*
      FROM input i
      JOIN recorded r ON r.account_id = i.account_id AND r.event_key = i.mid AND r.webhook_event_id = i.webhook_event_id
     ORDER BY i.account_id, i.mid, i.n
  ),
  threads AS (
    SELECT merchant_id, igsid, min(account_id) AS account_id, max(occurred_at) AS at,
           bool_or(answerable AND NOT stored_before AND NOT unsent) AS owes
      FROM fresh GROUP BY merchant_id, igsid
  ),
  customer AS (
    INSERT INTO customers (merchant_id, igsid)
    SELECT merchant_id, igsid FROM threads ORDER BY account_id, igsid
    ON CONFLICT (merchant_id, igsid) WHERE igsid IS NOT NULL
    DO UPDATE SET username = customers.username
    RETURNING id, merchant_id, igsid, (xmax = 0) AS created
  ),
  conversation AS (
    ${conversationUpsert(`
      SELECT t.merchant_id, c.id, t.at, t.at, CASE WHEN t.owes THEN clock_timestamp() END
        FROM threads t JOIN customer c ON c.merchant_id = t.merchant_id AND c.igsid = t.igsid
       ORDER BY t.account_id, t.igsid`)}
  ),
  stored AS (
    INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, attachments, mid, meta, occurred_at, deleted)
    SELECT f.merchant_id, v.id, 'in', 'customer', f.type, COALESCE(f.early_edit->>'text', f.text),
           f.attachments::jsonb, f.mid,
           f.meta::jsonb || CASE WHEN f.early_edit IS NULL THEN '{}'::jsonb
             ELSE jsonb_build_object('editCount', (f.early_edit->>'editCount')::int, 'editedAt', now()) END,
           f.occurred_at, f.unsent
      FROM fresh f
      JOIN customer c ON c.merchant_id = f.merchant_id AND c.igsid = f.igsid
      JOIN conversation v ON v.customer_id = c.id
     ORDER BY f.n
    ON CONFLICT (merchant_id, mid) WHERE mid IS NOT NULL DO NOTHING
    RETURNING merchant_id, mid
  )
  SELECT f.n::int AS n, v.id AS conversation_id, c.id AS customer_id, c.created, f.unsent,
         EXISTS (SELECT 1 FROM stored s WHERE s.merchant_id = f.merchant_id AND s.mid = f.mid) AS stored
    FROM fresh f
    JOIN customer c ON c.merchant_id = f.merchant_id AND c.igsid = f.igsid
    JOIN conversation v ON v.customer_id = c.id
    CROSS JOIN ${COMMIT_WITHOUT_WAITING}`;

interface StoredRow {
  n: number;
  conversation_id: string;
  customer_id: string;
  created: boolean;
  stored: boolean;
  /** Its deletion (the customer unsent it) came first, in an earlier webhook. */
  unsent: boolean;
}

/**
 * Customers' messages of many webhooks stored together, by one statement (atomic on its own):
 * what takes most webhook traffic, without a transaction's extra round trips.
 */
@Injectable()
export class CustomerMessageBatch {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Whether the event can be stored here: a customer's message to a known merchant. */
  static takes(event: InstagramEvent, merchant: MerchantRoute | undefined): event is MessageEvent {
    return event.kind === 'message' && !event.fromBusiness && merchant !== undefined;
  }

  /**
   * Answers each message by position: its result when this statement recorded it, or null when its
   * identity was recorded already (a redelivery, a repeat within the input, or this webhook's
   * earlier interrupted run), which the caller works out event by event.
   */
  async store(messages: readonly CustomerMessage[]): Promise<Array<IngestResult | null>> {
    const fields = messages.map(({ event, merchant }) => customerMessageFields(event, merchant));
    const rows = await this.dataSource.query<StoredRow[]>(STORE_CUSTOMER_MESSAGES, [
      messages.map((message) => message.webhookEventId),
      messages.map((message) => message.merchant.id),
      messages.map((message) => message.event.accountId),
      messages.map((message) => message.event.mid),
      messages.map((message) => new Date(message.event.timestamp)),
      messages.map((message) => JSON.stringify(message.event.raw ?? null)),
      messages.map((message) => message.event.customerId),
      fields.map((field) => field.type),
      fields.map((field) => field.text),
      fields.map((field) => JSON.stringify(field.attachments)),
      fields.map((field) => JSON.stringify(field.meta)),
      fields.map((field) => field.answerable),
    ]);
    const byPosition = new Map(rows.map((row) => [row.n - 1, row]));
    const newCustomers = new Set<string>();
    return messages.map((message, index): IngestResult | null => {
      const row = byPosition.get(index);
      if (!row) return null;
      const firstSight = row.created && !newCustomers.has(row.customer_id);
      if (firstSight) newCustomers.add(row.customer_id);
      return {
        status: row.stored ? 'applied' : 'ignored',
        note: row.stored ? undefined : 'message already stored',
        answer:
          row.stored && fields[index].answerable && !row.unsent
            ? { conversationId: row.conversation_id, owed: true }
            : undefined,
        newCustomer: firstSight
          ? { customerId: row.customer_id, igsid: message.event.customerId }
          : undefined,
      };
    });
  }
}

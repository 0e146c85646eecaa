import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AiReplyScheduler } from 'src/ai/ai-reply.scheduler';
import { parseStorableJson } from 'src/common/storable-text';
import {
  ConversationIngestService,
  type IngestResult,
} from 'src/conversation/conversation-ingest.service';
import { CustomerProfileService } from 'src/conversation/customer-profile.service';
import { MerchantDirectory, type MerchantRoute } from 'src/merchant/merchant-directory';
import { CustomerMessageBatch, type CustomerMessage } from 'src/webhook/customer-message.batch';
import { parseInstagramWebhook } from 'src/webhook/instagram-event.parser';
import type { InstagramEvent } from 'src/webhook/instagram-events';
import { parseManyChatInbound } from 'src/webhook/manychat-inbound';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

export type ProcessOutcome = 'processed' | 'skipped';

type Recorded = 'new' | 'retry' | 'duplicate';

interface ParsedWebhook {
  id: string;
  events: InstagramEvent[];
}

/** What makes an event itself: recorded once in `inbound_events`. */
interface EventIdentity {
  accountId: string;
  kind: string;
  key: string;
}

interface StoredEvent {
  source: WebhookSource;
  merchant_id: string | null;
  raw_body: Buffer;
  status: string;
  received_at: Date;
}

/** What committed events call for, gathered across events and webhooks. */
class FollowUps {
  readonly answers = new Map<string, string>();
  readonly rechecks = new Set<string>();
  readonly newCustomers: Array<{ merchantId: string; customerId: string; igsid: string }> = [];

  add(merchant: MerchantRoute | undefined, result: IngestResult | null): void {
    if (!merchant || !result) return;
    if (result.answer) this.answers.set(result.answer.conversationId, merchant.id);
    if (result.recheck) this.rechecks.add(result.recheck.conversationId);
    if (result.newCustomer) {
      this.newCustomers.push({ merchantId: merchant.id, ...result.newCustomer });
    }
  }
}

/**
 * The Instagram events of a stored body, each with a time (the receipt's when Meta gave none).
 * The body was verified and checked to be a JSON object when it was received. JSON can carry what
 * PostgreSQL refuses: U+0000 is dropped from every string, and a lone surrogate (`\ud83d` without
 * its pair) becomes U+FFFD.
 */
function instagramEventsOf(stored: StoredEvent): InstagramEvent[] {
  const body = parseStorableJson(stored.raw_body.toString('utf8'));
  return parseInstagramWebhook(body).map((event) =>
    event.timestamp > 0 ? event : { ...event, timestamp: stored.received_at.getTime() },
  );
}

/** The account and customer whose rows an event writes. */
function threadKey(event: InstagramEvent): string {
  if ('customerId' in event) return `${event.accountId}/${event.customerId}`;
  if (event.kind === 'comment' || event.kind === 'live_comment') {
    return `${event.accountId}/${event.from.selfIgScopedId ?? event.from.id ?? ''}`;
  }
  return `${event.accountId}/`;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Turns one stored webhook body into its effects, each event exactly once: every event is first
 * recorded in `inbound_events` under its identity, in the same transaction as its effect, so a
 * redelivered event (or this job run again after a crash) changes nothing twice.
 */
@Injectable()
export class WebhookIngestionService {
  private readonly logger = new Logger(WebhookIngestionService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly merchants: MerchantDirectory,
    private readonly conversations: ConversationIngestService,
    private readonly profiles: CustomerProfileService,
    private readonly replies: AiReplyScheduler,
    private readonly customerMessages: CustomerMessageBatch,
  ) {}

  /**
   * Stored webhook bodies taken together (group commit): one read, one merchant lookup, one
   * transaction for all their Instagram events and one status update, instead of one each. When
   * that transaction fails, each body is processed alone, event by event, so a bad event holds up
   * no other body. Answers each id by position, with its outcome or the error it failed with.
   */
  async processMany(ids: readonly string[]): Promise<Array<ProcessOutcome | Error>> {
    const rows = await this.dataSource.query<Array<StoredEvent & { id: string }>>(
      `SELECT id, source, merchant_id, raw_body, status, received_at FROM webhook_events WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const outcomes = new Map<string, ProcessOutcome | Error>();
    const together: ParsedWebhook[] = [];
    for (const id of new Set(ids)) {
      const stored = byId.get(id);
      // A failed event runs again only when an operator retries its dead-lettered job.
      if (!stored || stored.status === 'processed') outcomes.set(id, 'skipped');
      else if (stored.source === 'manychat') {
        outcomes.set(id, await this.processManyChat(id, stored).catch(asError));
      } else {
        try {
          together.push({ id, events: instagramEventsOf(stored) });
        } catch (error) {
          outcomes.set(id, asError(error));
        }
      }
    }
    if (together.length > 0) {
      const merchants = await this.merchants.byAccountIds(
        together.flatMap((webhook) => webhook.events.map((event) => event.accountId)),
      );
      // Customer by customer (a stable sort keeps each one's events in order): two transactions
      // that meet the same customers lock their rows in the same order, so they cannot deadlock.
      const events = together
        .flatMap((webhook) => webhook.events.map((event) => ({ webhookId: webhook.id, event })))
        .sort((a, b) => compareKeys(threadKey(a.event), threadKey(b.event)));
      const followUps = await this.applyTogether(events, merchants).catch((error: unknown) => {
        this.logger.warn(
          { webhooks: together.length, err: asError(error).message },
          'webhooks taken together failed; processing each alone',
        );
        return null;
      });
      if (followUps) {
        const finished = await this.finish(
          followUps,
          together.map((webhook) => webhook.id),
        ).then(() => 'processed' as const, asError);
        for (const webhook of together) outcomes.set(webhook.id, finished);
      } else {
        for (const webhook of together) {
          outcomes.set(webhook.id, await this.processAlone(webhook, merchants).catch(asError));
        }
      }
    }
    return ids.map((id) => outcomes.get(id) ?? new Error('webhook left unprocessed'));
  }

  /**
   * The events of many webhooks. When every one is a customer's message to a known merchant (most
   * traffic), one statement stores them; else one transaction applies them one by one, all or
   * none. Events whose identity was recorded before are worked out one by one, in a transaction
   * after the statement: should that one fail, each body is processed alone and finds what the
   * statement stored recorded under its own id (a retry, as after a crash).
   */
  private async applyTogether(
    events: Array<{ webhookId: string; event: InstagramEvent }>,
    merchants: Map<string, MerchantRoute>,
  ): Promise<FollowUps> {
    const found = new FollowUps();
    let left = events;
    const messages: CustomerMessage[] = [];
    for (const { webhookId, event } of events) {
      const merchant = merchants.get(event.accountId);
      if (!CustomerMessageBatch.takes(event, merchant) || !merchant) break;
      messages.push({ webhookEventId: webhookId, merchant, event });
    }
    if (messages.length === events.length) {
      const results = await this.customerMessages.store(messages);
      results.forEach((result, index) => found.add(messages[index].merchant, result));
      left = events.filter((_, index) => results[index] === null);
      if (left.length === 0) return found;
    }
    return this.dataSource.transaction(async (manager) => {
      for (const { webhookId, event } of left) {
        const merchant = merchants.get(event.accountId);
        found.add(merchant, await this.applyOnce(manager, webhookId, event, merchant));
      }
      return found;
    });
  }

  /** One webhook's events, each in a transaction of its own: an event that fails stops only itself. */
  private async processAlone(
    webhook: ParsedWebhook,
    merchants: Map<string, MerchantRoute>,
  ): Promise<ProcessOutcome> {
    const followUps = new FollowUps();
    for (const event of webhook.events) {
      const merchant = merchants.get(event.accountId);
      const result = await this.dataSource.transaction((manager) =>
        this.applyOnce(manager, webhook.id, event, merchant),
      );
      followUps.add(merchant, result);
    }
    await this.finish(followUps, [webhook.id]);
    return 'processed';
  }

  /** What follows committed events: replies queued, pending ones rechecked, the bodies marked done. */
  private async finish(followUps: FollowUps, webhookEventIds: string[]): Promise<void> {
    await this.replies.scheduleMany(
      [...followUps.answers].map(([conversationId, merchantId]) => ({
        merchantId,
        conversationId,
      })),
    );
    for (const conversationId of followUps.rechecks) {
      if (!followUps.answers.has(conversationId)) await this.cancelIfNothingLeft(conversationId);
    }
    await this.markProcessed(webhookEventIds);
    // Best effort, off the job's path: a slow Graph API must not hold up the next messages.
    for (const customer of followUps.newCustomers) {
      void this.profiles.refresh(customer.merchantId, customer.customerId, customer.igsid);
    }
  }

  /** A message forwarded by a merchant's ManyChat flow: one event, identified by its stored id. */
  private async processManyChat(
    webhookEventId: string,
    stored: StoredEvent,
  ): Promise<ProcessOutcome> {
    const inbound = parseManyChatInbound(stored.raw_body);
    const merchant = stored.merchant_id ? await this.merchants.route(stored.merchant_id) : null;
    if (typeof inbound === 'string' || !merchant) {
      await this.markFailed(
        webhookEventId,
        typeof inbound === 'string' ? inbound : 'the merchant no longer exists',
      );
      return 'skipped';
    }
    const event = {
      accountId: `manychat:${merchant.id}`,
      kind: 'manychat_message',
      key: webhookEventId,
    };
    const timestamp = stored.received_at.getTime();
    const result = await this.dataSource.transaction(
      async (manager): Promise<IngestResult | null> => {
        const recorded = await this.recordIdentity(
          manager,
          webhookEventId,
          event,
          merchant,
          timestamp,
          inbound,
        );
        if (recorded === 'duplicate') return null;
        if (recorded === 'retry') {
          const conversationId = await this.conversations.conversationOf(manager, merchant.id, {
            subscriberId: inbound.subscriberId,
          });
          return this.owe(
            manager,
            merchant.id,
            conversationId ? { status: 'applied', answer: { conversationId } } : null,
          );
        }
        const applied = await this.conversations.manyChatMessage(
          manager,
          merchant,
          inbound,
          timestamp,
        );
        if (applied.status !== 'applied') await this.noteOutcome(manager, event, applied);
        return this.owe(manager, merchant.id, applied);
      },
    );
    if (result?.answer) await this.replies.schedule(merchant.id, result.answer.conversationId);
    await this.markProcessed([webhookEventId]);
    if (result?.newCustomer) {
      void this.profiles.refresh(
        merchant.id,
        result.newCustomer.customerId,
        result.newCustomer.igsid,
      );
    }
    return 'processed';
  }

  private async markProcessed(webhookEventIds: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL
        WHERE id = ANY($1::uuid[])`,
      [webhookEventIds],
    );
  }

  /** Records a failure that used up every attempt, so the outbox leaves the event for a person. */
  async markFailed(webhookEventId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET status = 'failed', attempts = attempts + 1, last_error = $2
        WHERE id = $1 AND status = 'received'`,
      [webhookEventId, reason.slice(0, 1000)],
    );
  }

  /**
   * Applies an event unless its identity is already recorded. For an event this same webhook
   * recorded on an earlier, interrupted run, the effect is committed but what follows it (the reply)
   * may not have been queued: that part is worked out again.
   */
  private async applyOnce(
    manager: EntityManager,
    webhookEventId: string,
    event: InstagramEvent,
    merchant: MerchantRoute | undefined,
  ): Promise<IngestResult | null> {
    const recorded = await this.record(manager, webhookEventId, event, merchant);
    if (recorded === 'duplicate') return null;
    if (!merchant) {
      if (recorded === 'new') {
        this.logger.warn(
          { accountId: event.accountId, kind: event.kind, webhookEventId },
          event.accountId === '0'
            ? 'dashboard test event stored unrouted'
            : 'event for an account no merchant owns stored unrouted',
        );
      }
      return null;
    }
    if (recorded === 'retry') {
      return this.owe(manager, merchant.id, await this.followUpsOnRetry(manager, merchant, event));
    }
    const result = await this.conversations.apply(manager, merchant, event);
    if (result.status !== 'applied' || result.note) await this.noteOutcome(manager, event, result);
    return this.owe(manager, merchant.id, result);
  }

  /**
   * Records, with the message, that its conversation is owed a reply (what the reply sweeper
   * queues again from if the ai-response job is lost with Redis), unless the message's own insert
   * already did.
   */
  private async owe<T extends IngestResult | null>(
    manager: EntityManager,
    merchantId: string,
    result: T,
  ): Promise<T> {
    if (result?.answer && !result.answer.owed) {
      await manager.query(
        `UPDATE conversations SET reply_owed_at = clock_timestamp() WHERE id = $1 AND merchant_id = $2`,
        [result.answer.conversationId, merchantId],
      );
    }
    return result;
  }

  private async noteOutcome(
    manager: EntityManager,
    event: EventIdentity,
    result: IngestResult,
  ): Promise<void> {
    await manager.query(
      `UPDATE inbound_events SET status = $4, note = $5 WHERE account_id = $1 AND kind = $2 AND event_key = $3`,
      [event.accountId, event.kind, event.key, result.status, result.note ?? null],
    );
  }

  private record(
    manager: EntityManager,
    webhookEventId: string,
    event: InstagramEvent,
    merchant: MerchantRoute | undefined,
  ): Promise<Recorded> {
    return this.recordIdentity(
      manager,
      webhookEventId,
      event,
      merchant,
      event.timestamp,
      event.raw,
    );
  }

  private async recordIdentity(
    manager: EntityManager,
    webhookEventId: string,
    event: EventIdentity,
    merchant: MerchantRoute | undefined,
    timestamp: number,
    payload: unknown,
  ): Promise<Recorded> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO inbound_events (webhook_event_id, merchant_id, account_id, kind, event_key, status, occurred_at, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (account_id, kind, event_key) DO NOTHING
       RETURNING id`,
      [
        webhookEventId,
        merchant?.id ?? null,
        event.accountId,
        event.kind,
        event.key,
        merchant ? 'applied' : 'unrouted',
        new Date(timestamp),
        JSON.stringify(payload ?? null),
      ],
    );
    if (inserted.length > 0) return 'new';
    const [existing] = await manager.query<Array<{ webhook_event_id: string }>>(
      `SELECT webhook_event_id FROM inbound_events WHERE account_id = $1 AND kind = $2 AND event_key = $3`,
      [event.accountId, event.kind, event.key],
    );
    return existing?.webhook_event_id === webhookEventId ? 'retry' : 'duplicate';
  }

  private async followUpsOnRetry(
    manager: EntityManager,
    merchant: MerchantRoute,
    event: InstagramEvent,
  ): Promise<IngestResult | null> {
    const answerable =
      (event.kind === 'message' || event.kind === 'postback') &&
      !event.fromBusiness &&
      (!event.standby || merchant.deliveryChannel === 'manychat');
    if (!answerable) return null;
    const conversationId = await this.conversations.conversationOf(manager, merchant.id, {
      igsid: event.customerId,
    });
    return conversationId ? { status: 'applied', answer: { conversationId } } : null;
  }

  /** After a deletion: drop the pending reply when every unanswered customer message is gone. */
  private async cancelIfNothingLeft(conversationId: string): Promise<void> {
    const [left] = await this.dataSource.query<Array<{ count: string }>>(
      `SELECT count(*) FROM messages m
        WHERE m.conversation_id = $1 AND m.direction = 'in' AND NOT m.deleted
          AND m.occurred_at > COALESCE(
            (SELECT max(occurred_at) FROM messages WHERE conversation_id = $1 AND direction = 'out'), '-infinity')`,
      [conversationId],
    );
    if (Number(left?.count ?? 0) === 0 && (await this.replies.cancel(conversationId))) {
      this.logger.log({ conversationId }, 'pending reply cancelled: its messages were unsent');
    }
  }
}

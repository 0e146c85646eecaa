import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CatalogueCache, type IndexedCatalogue } from 'src/ai/catalogue-cache';
import {
  InstagramAIService,
  type BuiltPrompt,
  type TurnMessage,
} from 'src/ai/instagram-ai.service';
import type { Intent } from 'src/ai/intents';
import { handsOver, parseModelAnswer, type ModelAnswer } from 'src/ai/model-answer';
import {
  DEFAULT_HANDOVER_AR,
  DEFAULT_HANDOVER_EN,
  HOLDING_REPLY_AR,
  offlineReply,
  type ShopContext,
} from 'src/ai/offline-replier';
import { ModelBudget } from 'src/ai/model-budget';
import { isRetryable, retryWaitMs, OpenAiClient } from 'src/ai/openai.client';
import { figuresIn, ungroundedAmounts, type GroundedFigures } from 'src/ai/prices';
import type { CatalogueProduct } from 'src/ai/product-matcher';
import { formatReply } from 'src/ai/reply-format';
import { MicroBatcher } from 'src/common/micro-batcher';
import type { MessageAttachment, MessageChannel } from 'src/conversation/message.entity';
import { COMMIT_WITHOUT_WAITING, rowsOf } from 'src/database/sql';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import type { OutboundMessage } from 'src/delivery/delivery-part.store';
import {
  MessageDeliveryService,
  type DeliveredNow,
  type PreparedParts,
  type PreparedSend,
} from 'src/delivery/message-delivery.service';
import type { MerchantProfile } from 'src/merchant/merchant.entity';
import { MetricsService } from 'src/metrics/metrics.service';

/** A failing model still yields the holding reply within 30 s (INTERFACE §2, AI_TIMEOUT_MS). */
const MODEL_BUDGET_MS = 27_000;
const MODEL_ATTEMPTS = 3;
const WINDOW_MS = 24 * 3_600_000;
const COMMENT_REPLY_WINDOW_MS = 7 * 24 * 3_600_000;
const HISTORY_MESSAGES = 30;
/** Reads of a turn that other runs keep answering first, before the job is retried later. */
const TURN_READS = 3;
/** Customer messages that are not a question to answer. */
const SILENT_TYPES = ['like_heart', 'referral', 'unsupported'];

export type RespondOutcome =
  | { outcome: 'replied'; replyId: string; source: ReplySource }
  | { outcome: 'skipped'; reason: string };
type ReplySource = 'model' | 'offline' | 'guard' | 'holding';

interface ConversationRow {
  bot_paused_until: Date | null;
  needs_human: boolean;
  last_customer_message_at: Date | null;
  merchant_name: string;
  profile: MerchantProfile;
  /** bigint: bumped by the database on every write to the merchant's products. */
  catalogue_version: string;
  owed_mark: string | null;
  /** Replies stored but not handed to delivery yet (an interrupted run). */
  pending_replies: string[];
  /** The turn and the history around it, oldest first (TURN_AND_HISTORY). */
  messages: MessageJson[];
  /** What delivery needs of the customer and the merchant (see OutboundMessage). */
  customer_id: string;
  igsid: string | null;
  subscriber_id: string | null;
  merchant_channel: MessageChannel;
  needs_reauth: boolean;
  subscriber_field: string | null;
  has_instagram_token: boolean;
  standby: boolean;
  sealed_manychat_key: string | null;
}

/** A message as TURN_AND_HISTORY gives it: JSON, so times are ISO strings. */
interface MessageJson {
  id: string;
  direction: 'in' | 'out';
  sender: 'customer' | 'bot' | 'human';
  type: string;
  text: string | null;
  attachments: MessageAttachment[] | null;
  meta: Record<string, unknown> | null;
  occurred_at: string;
  in_turn: boolean;
}

/**
 * The conversation's turn (its unanswered customer messages) and its history (the latest
 * HISTORY_MESSAGES others), oldest first, as one JSON array: a subquery of the read of
 * conversation `c` ($3 silent types, $4 history length).
 */
const TURN_AND_HISTORY = `
  SELECT COALESCE(json_agg(x ORDER BY x.occurred_at, x.created_at), '[]'::json) FROM (
    (SELECT t.id, t.direction, t.sender, t.type, t.text, t.attachments, t.meta, t.occurred_at, t.created_at,
            true AS in_turn
       FROM messages t
      WHERE t.merchant_id = c.merchant_id AND t.conversation_id = c.id AND t.direction = 'in' AND t.answered_by IS NULL
        AND NOT t.deleted AND t.type <> ALL($3))
    UNION ALL
    (SELECT h.id, h.direction, h.sender, h.type, h.text, h.attachments, h.meta, h.occurred_at, h.created_at,
            false
       FROM messages h
      WHERE h.merchant_id = c.merchant_id AND h.conversation_id = c.id AND NOT h.deleted
        AND NOT (h.direction = 'in' AND h.answered_by IS NULL AND h.type <> ALL($3))
      ORDER BY h.occurred_at DESC, h.created_at DESC LIMIT $4)
  ) x`;

/**
 * What a turn's read gives of conversation `c`, its merchant `m` and its customer `cu`: what the
 * reply needs, and what its delivery does (DeliveryPartStore.load). $3 and $4 as in
 * TURN_AND_HISTORY.
 */
const CONVERSATION_COLUMNS = `
  c.bot_paused_until, c.needs_human, c.last_customer_message_at, m.name AS merchant_name, m.profile,
  m.catalogue_version, c.reply_owed_at::text AS owed_mark,
  ARRAY(SELECT o.id FROM messages o
         WHERE o.merchant_id = c.merchant_id AND o.conversation_id = c.id AND o.direction = 'out'
           AND o.sender = 'bot' AND o.delivery_status = 'queued') AS pending_replies,
  (${TURN_AND_HISTORY}) AS messages,
  cu.id AS customer_id, cu.igsid, cu.manychat_subscriber_id AS subscriber_id,
  m.delivery_channel AS merchant_channel, m.needs_reauth,
  m.manychat_subscriber_field AS subscriber_field,
  (m.instagram_access_token IS NOT NULL) AS has_instagram_token,
  COALESCE((SELECT (i.meta->>'standby')::boolean FROM messages i
             WHERE i.merchant_id = c.merchant_id AND i.conversation_id = c.id AND i.direction = 'in'
             ORDER BY i.occurred_at DESC LIMIT 1), false) AS standby,
  m.manychat_api_key AS sealed_manychat_key`;

/** The conversation the turn belongs to ($1 conversation, $2 merchant). */
const CONVERSATION = `
  SELECT ${CONVERSATION_COLUMNS}
    FROM conversations c
    JOIN merchants m ON m.id = c.merchant_id
    JOIN customers cu ON cu.id = c.customer_id
   WHERE c.id = $1 AND c.merchant_id = $2`;

/** The conversations of turns read together ($1 conversations, $2 their merchants), by id. */
const CONVERSATIONS = `
  SELECT c.id AS read_id, c.merchant_id AS read_merchant_id, ${CONVERSATION_COLUMNS}
    FROM unnest($1::uuid[], $2::uuid[]) AS q(id, merchant_id)
    JOIN conversations c ON c.id = q.id AND c.merchant_id = q.merchant_id
    JOIN merchants m ON m.id = c.merchant_id
    JOIN customers cu ON cu.id = c.customer_id`;

/** Turns read by one statement at most, and such statements in flight at once. */
const TURN_READ_BATCHES = { maxSize: 32, parallel: 2 };

interface TurnKey {
  merchantId: string;
  conversationId: string;
}

/**
 * Stores a turn's reply ($3 text, $4 attachments, $5 intent, $6 meta) for conversation $2 of
 * merchant $1, answering the turn $8 (last message $7), needs_human |= $9, and settles what was
 * owed at the turn's reading ($10): see `store`. A reply its job sends at once is stored with its
 * channel ($11) and its delivery parts ($12 kinds, $13 texts, $14 image URLs), `pending` as
 * DeliveryPartStore.plan writes them unclaimed; the parts' ids come back in order. The turn's rows are found among the
 * conversation's unanswered messages (`ix_messages_unanswered`), not by their ids alone:
 * PostgreSQL costs `id = ANY($8)` as ten ids, and would plan the statement again on every call
 * rather than keep its generic plan. Its commit does not wait for the disk (COMMIT_WITHOUT_WAITING):
 * nothing of the reply leaves Radd before a durable commit (the parts' `sending` mark, or
 * delivery's own plan of them), and a reply lost in a crash before then leaves its turn unanswered
 * and owed, to be answered again.
 */
export const STORE_REPLY = `
  WITH turn AS (
    SELECT id FROM messages
     WHERE conversation_id = $2 AND direction = 'in' AND answered_by IS NULL AND id = ANY($8::uuid[])
       AND merchant_id = $1
       FOR UPDATE
  ),
  open AS (
    SELECT count(*) = cardinality($8::uuid[]) AS ok FROM turn
  ),
  inserted AS (
    INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, attachments, intent,
                          delivery_status, channel, meta, occurred_at, answers_through)
    SELECT $1, $2, 'out', 'bot', 'text', $3, $4, $5, 'queued', $11, $6, now(), $7 WHERE (SELECT ok FROM open)
    ON CONFLICT (answers_through) WHERE answers_through IS NOT NULL DO NOTHING
    RETURNING id
  ),
  reply AS (
    SELECT id FROM inserted
    UNION ALL
    SELECT id FROM messages
     WHERE answers_through = $7 AND (SELECT ok FROM open) AND NOT EXISTS (SELECT 1 FROM inserted)
  ),
  answered AS (
    UPDATE messages SET answered_by = (SELECT id FROM reply), intent = COALESCE(intent, $5)
     WHERE id IN (SELECT id FROM turn) AND (SELECT ok FROM open)
  ),
  touched AS (
    UPDATE conversations SET last_message_at = GREATEST(last_message_at, now()), updated_at = now(),
           needs_human = needs_human OR $9,
           reply_owed_at = CASE WHEN reply_owed_at = $10::timestamptz THEN NULL ELSE reply_owed_at END
     WHERE id = $2 AND merchant_id = $1 AND (SELECT ok FROM open)
  ),
  parts AS (
    INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, image_url, status, attempts)
    SELECT $1, i.id, t.seq - 1, t.kind, t.text, t.image_url, 'pending', 0
      FROM inserted i, unnest($12::text[], $13::text[], $14::text[]) WITH ORDINALITY AS t(kind, text, image_url, seq)
    RETURNING id, seq
  )
  SELECT (SELECT ok FROM open) AS open, (SELECT id FROM reply) AS id,
         ARRAY(SELECT id FROM parts ORDER BY seq) AS parts
    FROM ${COMMIT_WITHOUT_WAITING}`;

class ModelUnavailableError extends Error {}

/** A reply the model (or the offline replier, or the holding reply) gave for a turn. */
interface TurnReply {
  turn: TurnMessage[];
  /** Messages of the turn left for a reply of their own (DMs before a comment it answers). */
  rest: number;
  text: string;
  attachments: MessageAttachment[];
  answer: ModelAnswer;
  handover: boolean;
  source: ReplySource;
  meta: Record<string, unknown>;
}

/**
 * Answers a conversation's unanswered customer messages (the turn) once: decides whether to
 * answer at all, asks the model (or the offline replier) with grounded context, guards the answer,
 * stores one reply per turn and hands it to delivery. A customer message is answered by one reply
 * however many runs of its conversation overlap.
 */
@Injectable()
export class ConversationAIOrchestrator {
  private readonly logger = new Logger(ConversationAIOrchestrator.name);
  private readonly turnReads = new MicroBatcher<TurnKey, ConversationRow | undefined>(
    (keys) => this.readTurns(keys),
    TURN_READ_BATCHES,
  );

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly model: OpenAiClient,
    private readonly prompts: InstagramAIService,
    private readonly delivery: MessageDeliveryProducer,
    private readonly sender: MessageDeliveryService,
    private readonly metrics: MetricsService,
    private readonly catalogues: CatalogueCache,
    private readonly budget: ModelBudget,
  ) {}

  /**
   * No connection or lock is held while the model thinks: the turn is read, answered, then
   * stored only if none of its messages was answered meanwhile (by another run of the same
   * conversation). If one was, the turn is read again: what is left is the new turn.
   */
  async respond(merchantId: string, conversationId: string): Promise<RespondOutcome> {
    for (let read = 1; read <= TURN_READS; read += 1) {
      const conversation = await this.turnReads.submit({ merchantId, conversationId });
      const decided = await this.decide(merchantId, conversationId, conversation);
      if ('outcome' in decided) {
        // A decided turn settles what was owed when it was read; later messages stay owed.
        if (conversation?.owed_mark) {
          await this.dataSource.query(
            `UPDATE conversations SET reply_owed_at = NULL
              WHERE id = $1 AND merchant_id = $2 AND reply_owed_at = $3::timestamptz`,
            [conversationId, merchantId, conversation.owed_mark],
          );
        }
        return decided;
      }
      // Sent by this job at once (most replies): its store writes the parts too.
      const prepared = await this.sender.prepare(
        outboundOf(merchantId, conversationId, conversation, decided),
      );
      let stored: { id: string; parts: PreparedParts } | null;
      try {
        stored = await this.store(
          merchantId,
          conversationId,
          conversation?.owed_mark ?? null,
          decided,
          prepared,
        );
      } catch (error) {
        prepared?.release();
        throw error;
      }
      if (stored === null) {
        prepared?.release();
        this.logger.log(
          { merchantId, conversationId, messages: decided.turn.length },
          'turn answered by another run meanwhile; reading it again',
        );
        continue;
      }
      const replyId = stored.id;
      this.metrics.aiReplies.inc({ source: decided.source, handover: String(decided.handover) });
      let delivery: DeliveredNow;
      if (prepared && stored.parts.length === prepared.items.length) {
        delivery = await this.sender.deliverPrepared(prepared, replyId, stored.parts);
      } else {
        prepared?.release();
        delivery = await this.sender.deliverNow(merchantId, replyId, conversationId);
      }
      this.logger.log(
        {
          merchantId,
          conversationId,
          replyId,
          intent: decided.answer.intent,
          source: decided.source,
          handover: decided.handover,
          messages: decided.turn.length,
          delivery,
        },
        delivery === 'sent' ? 'reply sent' : `reply stored; delivery ${delivery}`,
      );
      // The messages before a comment were not answered by its private reply: now they are.
      if (decided.rest > 0) await this.respond(merchantId, conversationId);
      return { outcome: 'replied', replyId, source: decided.source };
    }
    throw new Error('other runs kept answering the turn first; trying again later');
  }

  /**
   * The conversations of turns read at the same moment, by one statement (a lone one by a
   * statement of its own, which keeps its generic plan): undefined for one not found.
   */
  private async readTurns(keys: TurnKey[]): Promise<Array<ConversationRow | undefined>> {
    if (keys.length === 1) {
      const [{ conversationId, merchantId }] = keys;
      const [row] = await rowsOf<ConversationRow>(this.dataSource, CONVERSATION, [
        conversationId,
        merchantId,
        SILENT_TYPES,
        HISTORY_MESSAGES,
      ]);
      return [row];
    }
    const rows = await rowsOf<ConversationRow & { read_id: string; read_merchant_id: string }>(
      this.dataSource,
      CONVERSATIONS,
      [
        keys.map((key) => key.conversationId),
        keys.map((key) => key.merchantId),
        SILENT_TYPES,
        HISTORY_MESSAGES,
      ],
    );
    // By conversation and merchant: a key never gets a row of another merchant's.
    const byKey = new Map(
      rows.map(({ read_id: id, read_merchant_id: merchantId, ...row }) => [
        `${merchantId}/${id}`,
        row,
      ]),
    );
    return keys.map((key) => byKey.get(`${key.merchantId}/${key.conversationId}`));
  }

  /** Whether and how to answer the conversation's turn: a skip, or the reply to store. */
  private async decide(
    merchantId: string,
    conversationId: string,
    conversation: ConversationRow | undefined,
  ): Promise<RespondOutcome | TurnReply> {
    // A reply stored by an earlier, interrupted run goes to delivery now (the job id dedupes).
    for (const id of conversation?.pending_replies ?? []) {
      await this.delivery.enqueue(merchantId, id);
    }
    if (!conversation) return this.skip(merchantId, conversationId, 'conversation not found');
    if (conversation.bot_paused_until && conversation.bot_paused_until.getTime() > Date.now()) {
      return this.skip(merchantId, conversationId, 'bot paused in this conversation');
    }
    if (conversation.needs_human) {
      return this.skip(merchantId, conversationId, 'waiting for a person');
    }

    const turn = conversation.messages.filter((row) => row.in_turn).map(toTurnMessage);
    const history = conversation.messages.filter((row) => !row.in_turn).map(toTurnMessage);
    const last = turn.at(-1);
    if (!last) return this.skip(merchantId, conversationId, 'nothing new to answer');

    const commentId =
      last.type === 'comment' ? (last.meta.commentId as string | undefined) : undefined;
    if (commentId) {
      if (Date.now() - last.occurredAt.getTime() > COMMENT_REPLY_WINDOW_MS) {
        return this.skip(merchantId, conversationId, 'comment older than 7 days');
      }
    } else if (
      !conversation.last_customer_message_at ||
      Date.now() - conversation.last_customer_message_at.getTime() > WINDOW_MS
    ) {
      return this.skip(merchantId, conversationId, '24-hour window closed');
    }

    const shop: ShopContext = {
      name: conversation.merchant_name,
      profile: conversation.profile ?? {},
    };
    const catalogue = await this.catalogues.get(merchantId, conversation.catalogue_version, () =>
      this.catalogue(merchantId),
    );
    const prompt = this.prompts.build({
      shop,
      matcher: catalogue.matcher,
      history,
      turn: commentId ? [last] : turn,
    });

    const { answer, source, usage } = await this.answer(merchantId, prompt, shop, catalogue);
    const handover = handsOver(answer);
    const language = answer.language.startsWith('en') ? 'en' : 'ar';
    // The holding reply says what happened (a person will answer); other handovers use the merchant's words.
    const text =
      handover && source !== 'holding'
        ? shop.profile.handoverMessage?.trim() ||
          (language === 'en' ? DEFAULT_HANDOVER_EN : DEFAULT_HANDOVER_AR)
        : formatReply(answer.reply);
    const named = catalogue.products.filter((product) => answer.productSkus.includes(product.sku));
    const attachments: MessageAttachment[] =
      !handover && named.length === 1 && named[0].imageUrl
        ? [{ type: 'image', url: named[0].imageUrl }]
        : [];

    // A comment gets a private reply about itself alone; the DMs before it, their own reply.
    return {
      turn: commentId ? [last] : turn,
      rest: commentId ? turn.length - 1 : 0,
      text,
      attachments,
      answer,
      handover,
      source,
      meta: {
        ai: { source, ...usage },
        productSkus: named.map((product) => product.sku),
        ...(commentId ? { replyToCommentId: commentId } : {}),
      },
    };
  }

  /** The model's answer, guarded; the offline replier without a model; the holding reply on failure. */
  private async answer(
    merchantId: string,
    prompt: BuiltPrompt,
    shop: ShopContext,
    catalogue: IndexedCatalogue,
  ): Promise<{ answer: ModelAnswer; source: ReplySource; usage: Record<string, unknown> }> {
    const offline = (intent?: Intent) =>
      offlineReply(prompt.customerText, shop, prompt.products, {
        intent,
        language: prompt.language,
      });
    if (!this.model.enabled) return { answer: offline(), source: 'offline', usage: {} };
    if (!(await this.budget.allows(merchantId))) {
      return { answer: offline(), source: 'offline', usage: { reason: 'daily token cap' } };
    }
    let answer: ModelAnswer;
    let usage: Record<string, unknown>;
    try {
      ({ answer, usage } = await this.callModel(prompt.messages, (tokens) =>
        this.budget.spend(merchantId, tokens),
      ));
    } catch (error) {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'model failed; holding reply',
      );
      return {
        answer: {
          reply: HOLDING_REPLY_AR,
          intent: 'other',
          confidence: 0,
          needsHuman: true,
          productSkus: [],
          language: 'ar-IQ',
        },
        source: 'holding',
        usage: { error: error instanceof Error ? error.message.slice(0, 200) : 'unknown' },
      };
    }
    const allowed = allowedFigures(shop.profile, catalogue.prices);
    const invented = ungroundedAmounts(answer.reply, allowed);
    if (invented.length > 0) {
      this.logger.warn(
        { invented },
        'model stated prices the merchant does not have; offline answer sent instead',
      );
      return { answer: offline(answer.intent), source: 'guard', usage: { ...usage, invented } };
    }
    return {
      answer: {
        ...answer,
        productSkus: answer.productSkus.filter((sku) => catalogue.skus.has(sku)),
      },
      source: 'model',
      usage,
    };
  }

  /** One structured answer within the budget: transient errors retried, invalid JSON retried once. */
  private async callModel(
    messages: Parameters<OpenAiClient['complete']>[0],
    spend: (tokens: number) => Promise<void>,
  ): Promise<{ answer: ModelAnswer; usage: Record<string, unknown> }> {
    const deadline = Date.now() + MODEL_BUDGET_MS;
    let invalidAnswers = 0;
    // Made only when needed: an Error captures its stack, and most calls succeed at once.
    let lastError: unknown;
    for (let attempt = 1; attempt <= MODEL_ATTEMPTS; attempt += 1) {
      const remaining = deadline - Date.now();
      if (remaining < 500) {
        lastError ??= new ModelUnavailableError('no time left within the budget');
        break;
      }
      const started = Date.now();
      try {
        const completion = await this.model.complete(
          messages,
          Math.min(this.modelTimeout(), remaining),
        );
        this.metrics.aiLatency.observe({ outcome: 'ok' }, completion.latencyMs / 1000);
        this.metrics.aiTokens.inc({ kind: 'prompt' }, completion.promptTokens);
        this.metrics.aiTokens.inc({ kind: 'completion' }, completion.completionTokens);
        void spend(completion.promptTokens + completion.completionTokens);
        if (completion.refusal || completion.finishReason === 'content_filter') {
          // Asked again, the same turn is refused again: a person answers it.
          lastError = new ModelUnavailableError(
            `the model refused to answer: ${(completion.refusal ?? completion.finishReason ?? '').slice(0, 200)}`,
          );
          break;
        }
        const answer = parseModelAnswer(completion.content);
        if (answer) {
          return {
            answer,
            usage: {
              model: completion.model,
              latencyMs: completion.latencyMs,
              promptTokens: completion.promptTokens,
              completionTokens: completion.completionTokens,
              attempts: attempt,
            },
          };
        }
        invalidAnswers += 1;
        lastError = new ModelUnavailableError(
          completion.finishReason === 'length'
            ? 'the answer was cut at its token limit'
            : 'the model did not answer with the required JSON',
        );
        if (invalidAnswers > 1) break;
      } catch (error) {
        this.metrics.aiLatency.observe({ outcome: 'error' }, (Date.now() - started) / 1000);
        lastError = error;
        if (!isRetryable(error) || attempt === MODEL_ATTEMPTS) break;
        // A wait that would leave too little of the budget for the call: the holding reply now.
        const wait = retryWaitMs(error, attempt);
        if (deadline - Date.now() - wait < 500) break;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    throw lastError;
  }

  private modelTimeout(): number {
    return this.model.timeoutMs;
  }

  /** Every product of the merchant, as stored now (CatalogueCache asks for it on a change). */
  private async catalogue(merchantId: string): Promise<CatalogueProduct[]> {
    const rows = await rowsOf<{
      sku: string;
      name: string;
      description: string | null;
      price: number;
      currency: string;
      in_stock: boolean;
      image_url: string | null;
    }>(
      this.dataSource,
      `SELECT sku, name, description, price, currency, in_stock, image_url FROM products WHERE merchant_id = $1`,
      [merchantId],
    );
    return rows.map((row) => ({
      sku: row.sku,
      name: row.name,
      description: row.description,
      price: row.price,
      currency: row.currency,
      inStock: row.in_stock,
      imageUrl: row.image_url,
    }));
  }

  /**
   * Stores the reply once per turn, marks the turn answered and settles what was owed when the
   * turn was read (`owedMark`), in one statement, provided no message of the turn was answered
   * meanwhile: the turn's rows are locked first, so of two runs storing at once the second sees
   * what the first did. Null: the turn was answered meanwhile, nothing was stored.
   */
  private async store(
    merchantId: string,
    conversationId: string,
    owedMark: string | null,
    reply: TurnReply,
    prepared: PreparedSend | null,
  ): Promise<{ id: string; parts: PreparedParts } | null> {
    const lastId = reply.turn[reply.turn.length - 1].id;
    const items = prepared?.items ?? [];
    const [stored] = await rowsOf<{ open: boolean; id: string | null; parts: string[] }>(
      this.dataSource,
      STORE_REPLY,
      [
        merchantId,
        conversationId,
        reply.text,
        JSON.stringify(reply.attachments),
        reply.answer.intent,
        JSON.stringify(reply.meta),
        lastId,
        reply.turn.map((message) => message.id),
        reply.handover,
        owedMark,
        prepared?.channel ?? null,
        items.map((item) => item.kind),
        items.map((item) => (item.kind === 'text' ? item.text : null)),
        items.map((item) => (item.kind === 'image' ? item.url : null)),
      ],
    );
    if (!stored?.open) return null;
    if (stored.id) return { id: stored.id, parts: stored.parts };
    // Stored meanwhile by a run this statement could not see yet: that one is the reply.
    const [earlier] = await rowsOf<{ id: string }>(
      this.dataSource,
      `SELECT id FROM messages WHERE answers_through = $1`,
      [lastId],
    );
    if (!earlier) throw new Error('the reply of the turn could not be stored');
    return { id: earlier.id, parts: [] };
  }

  private skip(merchantId: string, conversationId: string, reason: string): RespondOutcome {
    this.logger.log({ merchantId, conversationId, reason }, 'no reply');
    return { outcome: 'skipped', reason };
  }
}

/** The reply about to be stored as delivery reads it (its id is the stored one's). */
function outboundOf(
  merchantId: string,
  conversationId: string,
  conversation: ConversationRow | undefined,
  reply: TurnReply,
): OutboundMessage {
  if (!conversation) throw new Error('a reply without its conversation');
  return {
    id: '',
    merchantId,
    conversationId,
    customerId: conversation.customer_id,
    sender: 'bot',
    text: reply.text,
    attachments: reply.attachments,
    meta: reply.meta,
    channel: null,
    deliveryStatus: 'queued',
    lastCustomerMessageAt: conversation.last_customer_message_at,
    igsid: conversation.igsid,
    subscriberId: conversation.subscriber_id,
    merchantChannel: conversation.merchant_channel,
    needsReauth: conversation.needs_reauth,
    subscriberField: conversation.subscriber_field,
    hasInstagramToken: conversation.has_instagram_token,
    standby: conversation.standby,
    planned: false,
    sealedManychatKey: conversation.sealed_manychat_key,
  };
}

function toTurnMessage(row: MessageJson): TurnMessage {
  return {
    id: row.id,
    direction: row.direction,
    sender: row.sender,
    type: row.type,
    text: row.text,
    attachments: row.attachments ?? [],
    meta: row.meta ?? {},
    occurredAt: new Date(row.occurred_at),
  };
}

/**
 * Every figure the merchant's own data holds: the catalogue's prices (catalogueFigures, read once
 * per catalogue version) and the numbers in the profile and FAQ.
 */
export function allowedFigures(
  profile: MerchantProfile,
  prices: ReadonlySet<number>,
): GroundedFigures {
  const texts = [
    profile.deliveryInfo,
    profile.description,
    profile.returnPolicy,
    profile.workingHours,
    profile.handoverMessage,
    ...(profile.faq ?? []).flatMap((entry) => [entry.question, entry.answer]),
  ].filter((text): text is string => typeof text === 'string');
  return { prices, extras: texts.flatMap(figuresIn) };
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { behaviourConfig, type BehaviourConfig } from 'src/config/behaviour.config';
import { DELIVERY_BACKOFF, deliveryBackoff } from 'src/delivery/delivery-backoff';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import {
  CommentAlreadyAnsweredError,
  DeliveryPartStore,
  itemOf,
  type OutboundMessage,
  type PartRow,
} from 'src/delivery/delivery-part.store';
import { DeliveryRouter } from 'src/delivery/delivery-router';
import { DELIVERY_SETTINGS, type DeliverySettings } from 'src/delivery/delivery-settings';
import {
  checkMessageWindow,
  HUMAN_AGENT_WINDOW_MS,
  type MessageTag,
} from 'src/delivery/message-window';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import type { OutboundItem } from 'src/delivery/outbound';
import type { MessageChannel } from 'src/conversation/message.entity';
import {
  MANYCHAT_SEND_RATE,
  SendRateLimiter,
  type SendBucket,
  type SetAside,
} from 'src/delivery/send-rate.limiter';
import { SendingPlaces } from 'src/delivery/sending-places';
import { splitText } from 'src/delivery/text-parts';
import { InstagramMessageSender } from 'src/instagram/instagram-message.sender';
import { MANYCHAT_MAX_MESSAGES } from 'src/manychat/manychat.client';
import { ManyChatMessageSender } from 'src/manychat/manychat-message.sender';
import { MetricsService } from 'src/metrics/metrics.service';
import { MerchantDirectory } from 'src/merchant/merchant-directory';

/** What became of a reply its own job tried to send: sent, skipped, failed, or queued for a job. */
export type DeliveredNow = DeliveryOutcome['outcome'] | 'failed' | 'queued';

export type DeliveryOutcome =
  { outcome: 'sent'; parts: number } | { outcome: 'skipped'; reason: string };

/** What a run can do besides finishing: set the job aside, without spending an attempt. */
export interface DeliveryJobControl {
  /** Runs the job again after `ms`; never returns. */
  later(ms: number, why: string): Promise<never>;
}

/** A run's control, and the end of its turn among the merchant's jobs waiting for send slots. */
interface RunControl extends DeliveryJobControl {
  /** The run has its first send slot, or will take none: the merchant's next job may go on. */
  slotReached(): void;
}

/**
 * How long a reply's own job waits for a place among the process's replies sending, before the
 * reply goes to a `message-delivery` job instead (twice at most: before its store, and after).
 */
export const SENDING_PLACE_WAIT_MS = 500;

/** Why a run skipped a message that is not stored (any more, or after all). */
export const MESSAGE_NOT_FOUND = 'message not found';

/** A reply its own job sends: ids only. */
interface StoredReply {
  merchantId: string;
  messageId: string;
  conversationId: string;
}

/** A run from the reply's own job left the rest to a `message-delivery` job. */
class HandedToJob extends Error {}

/**
 * A reply's delivery worked out before the reply is stored, so that the statement storing it
 * writes its channel and parts too (`pending`: each is marked `sending` once its send slot is
 * taken, right before the call, so that a worker dying before then leaves nothing of unknown outcome) and its own job sends it
 * without reading it back. Holds a place among the process's sending replies and the
 * merchant's admitted ones until `deliverPrepared` or `release`.
 */
export interface PreparedSend {
  /** The reply as delivery reads it; its id is the stored reply's. */
  readonly message: OutboundMessage;
  readonly channel: MessageChannel;
  readonly items: OutboundItem[];
  /** Gives the places back when the reply is not sent this way after all. */
  readonly release: () => void;
}

/** A stored reply's parts as the store wrote them: their ids, in order. */
export type PreparedParts = readonly string[];

const fail = (reason: string, detail: string) => new DeliveryFailure('permanent', reason, detail);

/**
 * Sends one outbound message, part by part, at most once each. A run: writes the parts once;
 * settles parts a crashed run left `sending` (their outcome is unknown: an echo confirms them,
 * or they are sent again once the wait is over); checks the messaging window; then sends the
 * open parts in order, each recorded `sending` before the provider is called and `sent` (with
 * the provider's id) after. See the README's Delivery section for the states.
 */
@Injectable()
export class MessageDeliveryService {
  private readonly logger = new Logger(MessageDeliveryService.name);
  /** Replies this process sends from their own jobs: half of AI_CONCURRENCY at once, at least one. */
  private readonly sending: SendingPlaces;
  /** Whether a prepared send still holds its places (neither sent nor released). */
  private readonly held = new WeakMap<PreparedSend, { held: boolean }>();

  constructor(
    private readonly store: DeliveryPartStore,
    private readonly router: DeliveryRouter,
    private readonly instagram: InstagramMessageSender,
    private readonly manychat: ManyChatMessageSender,
    private readonly limiter: SendRateLimiter,
    private readonly merchants: MerchantDirectory,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    private readonly metrics: MetricsService,
    private readonly producer: MessageDeliveryProducer,
    @Inject(behaviourConfig.KEY) behaviour: BehaviourConfig,
  ) {
    this.sending = new SendingPlaces(Math.max(1, Math.floor(behaviour.aiConcurrency / 2)));
  }

  /**
   * Delivers a reply from the job that stored it, sparing it a hop through the queue. Whatever
   * would set a delivery job aside or retry it (a wait for a send slot, a failed send, an unknown
   * outcome) hands the message to a `message-delivery` job instead, at the same time; so does a
   * job that waited SENDING_PLACE_WAIT_MS in vain for a place among the process's replies sending
   * (half of AI_CONCURRENCY: a slow or hanging provider then holds at most half of the reply
   * stage's slots, and the rest for a moment; delivery jobs wait for it instead).
   * The job carries the reply's conversation: should a crash of PostgreSQL have lost the reply's
   * store (it does not wait for the disk), the job finds no reply and has the turn read again.
   * Rejects only when even the job could not be queued: the caller's job is then retried, and its
   * reading of the conversation queues the reply stored but not handed over.
   */
  async deliverNow(
    merchantId: string,
    messageId: string,
    conversationId: string,
  ): Promise<DeliveredNow> {
    const reply = { merchantId, messageId, conversationId };
    if (!(await this.sending.take(SENDING_PLACE_WAIT_MS))) return this.handOff(reply, 0);
    return this.fromReplyJob(reply, (control) => this.deliver(merchantId, messageId, control));
  }

  /**
   * Works out how a reply about to be stored will be sent by its own job (see PreparedSend).
   * Null when it goes the usual way, stored and then handed to `deliverNow`: a private reply to
   * a comment, no place among the process's replies sending in time, a merchant with enough
   * replies on their way to a send slot, nothing to send, or a route that cannot be decided now
   * (the usual way records why).
   */
  async prepare(message: OutboundMessage): Promise<PreparedSend | null> {
    if (typeof message.meta.replyToCommentId === 'string') return null;
    const items = itemsOf(message);
    if (items.length === 0) return null;
    if (!(await this.sending.take(SENDING_PLACE_WAIT_MS))) return null;
    if (!this.limiter.tryAdmit(message.merchantId)) {
      this.sending.give();
      return null;
    }
    const places = { held: true };
    const release = () => {
      if (!places.held) return;
      places.held = false;
      this.sending.give();
      this.limiter.leave(message.merchantId);
    };
    try {
      const channel = await this.router.channelFor(message, undefined);
      message.channel = channel;
      const prepared = { message, channel, items, release };
      this.held.set(prepared, places);
      return prepared;
    } catch {
      release();
      return null;
    }
  }

  /**
   * Sends a prepared reply its store planned (`parts`, in order), as `deliverNow` would, without
   * reading it back: its places are given back once the run ends.
   */
  async deliverPrepared(
    prepared: PreparedSend,
    messageId: string,
    parts: PreparedParts,
  ): Promise<DeliveredNow> {
    const { message } = prepared;
    message.id = messageId;
    const rows: PartRow[] = prepared.items.map((item, seq) => ({
      id: parts[seq],
      seq,
      kind: item.kind,
      text: item.kind === 'text' ? item.text : null,
      imageUrl: item.kind === 'image' ? item.url : null,
      commentId: null,
      status: 'pending',
      providerMessageId: null,
      attemptedAt: null,
      unknownSince: null,
    }));
    // The run takes the places over: the merchant's until its send slot, the process's until it ends.
    const places = this.held.get(prepared);
    if (!places?.held) throw new Error('a prepared send is sent once, and not once released');
    places.held = false;
    const reply = {
      merchantId: message.merchantId,
      messageId,
      conversationId: message.conversationId,
    };
    return this.fromReplyJob(reply, (control) =>
      this.admitted(message.merchantId, control, (run) =>
        this.deliverAdmitted(message.merchantId, messageId, run, { message, rows }),
      ),
    );
  }

  /** Hands a reply to a `message-delivery` job, due in `ms`, with its conversation. */
  private async handOff(reply: StoredReply, ms: number): Promise<DeliveredNow> {
    await this.producer.enqueue(reply.merchantId, reply.messageId, ms, reply.conversationId);
    return 'queued';
  }

  /**
   * A run from the reply's own job, holding a sending place the caller took: whatever would set
   * a delivery job aside or retry it hands the message to a `message-delivery` job instead.
   */
  private async fromReplyJob(
    reply: StoredReply,
    run: (control: DeliveryJobControl) => Promise<DeliveryOutcome>,
  ): Promise<DeliveredNow> {
    try {
      const done = await run({
        later: async (ms: number, why: string): Promise<never> => {
          await this.handOff(reply, ms);
          throw new HandedToJob(why);
        },
      });
      return done.outcome;
    } catch (error) {
      if (error instanceof HandedToJob) return 'queued';
      if (error instanceof UnrecoverableError) return 'failed';
      return this.handOff(reply, deliveryBackoff(1, DELIVERY_BACKOFF, error as Error));
    } finally {
      this.sending.give();
    }
  }

  async deliver(
    merchantId: string,
    messageId: string,
    control: DeliveryJobControl,
  ): Promise<DeliveryOutcome> {
    // Set aside before anything is read when enough of the merchant's replies are already on
    // their way to send slots.
    const crowded = this.limiter.admit(merchantId);
    if (crowded) return control.later(crowded.ms, crowded.why);
    return this.admitted(merchantId, control, (run) =>
      this.deliverAdmitted(merchantId, messageId, run),
    );
  }

  /** A run of an admitted job: its turn among the merchant's admitted jobs ends with its slot. */
  private async admitted(
    merchantId: string,
    control: DeliveryJobControl,
    work: (run: RunControl) => Promise<DeliveryOutcome>,
  ): Promise<DeliveryOutcome> {
    let admitted = true;
    const run: RunControl = {
      later: (ms, why) => control.later(ms, why),
      slotReached: () => {
        if (!admitted) return;
        admitted = false;
        this.limiter.leave(merchantId);
      },
    };
    try {
      return await work(run);
    } finally {
      run.slotReached();
    }
  }

  /**
   * A run: the message read and planned here, or (`planned`) as its store just wrote it, with
   * nothing for an earlier run to have left.
   */
  private async deliverAdmitted(
    merchantId: string,
    messageId: string,
    control: RunControl,
    planned?: { message: OutboundMessage; rows: PartRow[] },
  ): Promise<DeliveryOutcome> {
    const message = planned?.message ?? (await this.store.load(merchantId, messageId));
    if (!message) return { outcome: 'skipped', reason: MESSAGE_NOT_FOUND };
    if (message.deliveryStatus === 'failed') return { outcome: 'skipped', reason: 'failed before' };
    const commentId =
      typeof message.meta.replyToCommentId === 'string' ? message.meta.replyToCommentId : undefined;
    let parts = planned?.rows ?? (message.planned ? await this.store.parts(messageId) : []);
    let open: PartRow[] = [];
    try {
      // The window is checked on every run (a retry or a pause may outlast it), once.
      let window: { tag: MessageTag | undefined } | undefined;
      let claimed = new Set<string>();
      if (planned) window = { tag: await this.windowAllows(message, commentId) };
      else if (parts.length === 0) {
        if (message.deliveryStatus !== 'queued' && message.deliveryStatus !== null) {
          return { outcome: 'skipped', reason: `already ${message.deliveryStatus}` };
        }
        window = { tag: await this.windowAllows(message, commentId) };
        ({ parts, claimed } = await this.plan(message, commentId));
      }
      // Parts this run just wrote are new: only an earlier run leaves anything to settle.
      if (message.planned) parts = await this.reconcile(message, control);
      open = parts.filter((part) => part.status === 'pending' || claimed.has(part.id));
      if (open.length > 0) {
        const tag = window ? window.tag : await this.windowAllows(message, commentId);
        if (message.channel === 'manychat') {
          await this.viaManyChat(message, open, claimed, tag, control);
        } else {
          await this.viaInstagram(message, open, tag, parts[0].status === 'pending', control);
        }
      }
    } catch (error) {
      if (error instanceof DeliveryFailure && error.kind === 'permanent') {
        await this.store.fail(messageId, error.record);
        this.logger.warn({ merchantId, messageId, reason: error.record }, 'delivery failed');
        throw new UnrecoverableError(error.record);
      }
      throw error;
    }
    // Sending the last open part finished the message; a run that found none open finishes it.
    if (open.length === 0) await this.store.finish(messageId);
    return { outcome: 'sent', parts: parts.length };
  }

  /** The job gave up for good: what may have gone out stays unknown, the rest fails. */
  async giveUp(messageId: string, error: Error): Promise<void> {
    const record = error instanceof DeliveryFailure ? error.record : error.message;
    await this.store.giveUp(messageId, `gave up: ${record}`.slice(0, 500));
  }

  /**
   * Writes the parts (text parts, then the image) and the channel, once. Through ManyChat the
   * first call's parts are written `sending` already (`claimed`: this run sends them next).
   */
  private async plan(
    message: OutboundMessage,
    commentId: string | undefined,
  ): Promise<{ parts: PartRow[]; claimed: Set<string> }> {
    const items = itemsOf(message);
    if (items.length === 0) throw fail('nothing_to_send', 'the message has no text and no image');
    // A comment gets one private reply, one message: the rest could not reach the customer.
    const planned = commentId ? items.slice(0, 1) : items;
    if (planned.length < items.length) {
      this.logger.warn(
        { merchantId: message.merchantId, messageId: message.id, dropped: items.length - 1 },
        'a private reply is one message: only its first part is sent',
      );
    }
    let channel: MessageChannel;
    try {
      channel = await this.router.channelFor(message, commentId);
    } catch (error) {
      // Nothing is planned or sent yet. A lookup that failed for now (ManyChat's subscriber
      // search) is retried; the message says why it still waits.
      if (error instanceof DeliveryFailure && error.kind !== 'permanent') {
        await this.store.setStatus(message.id, 'queued', error.record, ['queued']);
      }
      throw error;
    }
    message.channel = channel;
    const claim = channel === 'manychat' ? MANYCHAT_MAX_MESSAGES : 0;
    try {
      return await this.store.plan(message, channel, planned, commentId, claim);
    } catch (error) {
      if (error instanceof CommentAlreadyAnsweredError) {
        throw fail('comment_already_answered', 'a comment gets one private reply only');
      }
      throw error;
    }
  }

  /**
   * Parts whose outcome is unknown: confirmed by their echo, else sent again once the wait is
   * over; until then the job looks again every `reconcilePollMs`.
   */
  private async reconcile(message: OutboundMessage, control: RunControl): Promise<PartRow[]> {
    const crashed = await this.store.settleCrashed(message.id);
    if (crashed > 0) {
      await this.store.setStatus(message.id, 'unknown', null, ['queued', 'unknown']);
      this.logger.warn(
        { merchantId: message.merchantId, messageId: message.id, parts: crashed },
        'a send was interrupted before its outcome was recorded; waiting for its echo',
      );
    }
    await this.store.reconcile(message.id, this.settings.reconcileWaitMs);
    const parts = await this.store.parts(message.id);
    const waiting = parts.filter((part) => part.status === 'unknown');
    if (waiting.length > 0) {
      const since = Math.min(...waiting.map((part) => part.unknownSince?.getTime() ?? Date.now()));
      const left = since + this.settings.reconcileWaitMs - Date.now();
      return control.later(
        Math.max(50, Math.min(this.settings.reconcilePollMs, left + 50)),
        'waiting for the echo of a send whose outcome was lost',
      );
    }
    await this.store.setStatus(message.id, 'queued', null, ['unknown']);
    return parts;
  }

  /** Whether the message may go now, and with which tag. */
  private async windowAllows(
    message: OutboundMessage,
    commentId: string | undefined,
  ): Promise<MessageTag | undefined> {
    if (commentId) {
      const at = await this.store.commentTime(
        message.merchantId,
        message.conversationId,
        commentId,
      );
      if (!at) throw fail('comment_unknown', 'the comment to reply to is not stored');
      if (Date.now() - at.getTime() > HUMAN_AGENT_WINDOW_MS) {
        throw fail('window_closed', 'the comment is more than 7 days old: no private reply');
      }
      return undefined;
    }
    const decision = checkMessageWindow(message.lastCustomerMessageAt, message.sender);
    if (!decision.open) throw fail(decision.reason, decision.detail);
    return decision.tag;
  }

  private async viaInstagram(
    message: OutboundMessage,
    open: PartRow[],
    tag: MessageTag | undefined,
    nothingSentYet: boolean,
    control: RunControl,
  ): Promise<void> {
    if (message.needsReauth) return this.pausedForReauth(message, [], control);
    const token = await this.router.instagramToken(message.merchantId);
    if (!token) throw fail('no_instagram_token', 'the merchant has no Instagram access token');
    const timeout = this.settings.sendTimeoutMs;
    if (message.sender === 'bot' && nothingSentYet && message.igsid && !open[0].commentId) {
      await this.slot(message.merchantId, control);
      const failure = await this.instagram.typingOn(token, message.igsid, timeout);
      if (failure?.kind === 'reauth') return this.handle(failure, message, [], control);
    }
    for (const part of open) {
      const recipient = part.commentId
        ? { comment_id: part.commentId }
        : message.igsid
          ? { id: message.igsid }
          : null;
      if (!recipient) throw fail('recipient_unknown', 'the customer has no Instagram-scoped id');
      // A private reply also draws on the merchant's private replies of the hour.
      await this.slot(message.merchantId, control, [], undefined, Boolean(part.commentId));
      await this.markSending(message, [part]);
      let providerId: string | undefined;
      try {
        providerId = await this.instagram.send(token, recipient, itemOf(part), tag, timeout);
      } catch (error) {
        await this.handle(asFailure(error), message, [part], control);
      }
      await this.store.markSent(message.id, [part.id], providerId, part === open.at(-1));
      this.metrics.deliveries.inc({ channel: 'instagram', outcome: 'sent', code: '' });
    }
  }

  private async viaManyChat(
    message: OutboundMessage,
    open: PartRow[],
    claimed: Set<string>,
    tag: MessageTag | undefined,
    control: RunControl,
  ): Promise<void> {
    const key = this.router.manychatKeyOf(message);
    if (!key) {
      throw fail('no_manychat_api_key', 'neither the merchant nor MANYCHAT_API_KEY has one');
    }
    const subscriber = await this.router.subscriberOf(message);
    if (!subscriber) {
      throw fail('subscriber_unknown', 'no ManyChat subscriber id for this customer');
    }
    for (let start = 0; start < open.length; start += MANYCHAT_MAX_MESSAGES) {
      const batch = open.slice(start, start + MANYCHAT_MAX_MESSAGES);
      // Parts not claimed yet are marked `sending` once the slot is theirs, right before the call:
      // a worker dying while it waits for the slot leaves them `pending`, not of unknown outcome.
      await this.slot(message.merchantId, control, batch, {
        apiKey: key,
        limit: MANYCHAT_SEND_RATE,
      });
      const unclaimed = batch.filter((part) => !claimed.has(part.id));
      if (unclaimed.length > 0) await this.markSending(message, unclaimed);
      try {
        await this.manychat.send(
          key,
          subscriber,
          batch.map(itemOf),
          tag,
          this.settings.sendTimeoutMs,
        );
      } catch (error) {
        await this.handle(asFailure(error), message, batch, control);
      }
      await this.store.markSent(
        message.id,
        batch.map((part) => part.id),
        undefined,
        start + MANYCHAT_MAX_MESSAGES >= open.length,
      );
      this.metrics.deliveries.inc({ channel: 'manychat', outcome: 'sent', code: '' }, batch.length);
    }
  }

  /**
   * Waits for a send slot of the merchant; a long pause (Meta asked) sets the job aside. Parts
   * already marked `sending` go back to `pending` when no slot comes: nothing was sent. Either
   * way the run's turn among the merchant's admitted jobs ends here.
   */
  private async slot(
    merchantId: string,
    control: RunControl,
    parts: PartRow[] = [],
    bucket?: SendBucket,
    privateReply = false,
  ): Promise<void> {
    const ids = parts.map((part) => part.id);
    let aside: SetAside | null;
    try {
      aside = await this.limiter.acquire(merchantId, bucket, privateReply);
    } catch (error) {
      await this.store.markPending(ids, asFailure(error).record);
      throw error;
    } finally {
      control.slotReached();
    }
    if (aside) {
      await this.store.markPending(ids, aside.why);
      await control.later(aside.ms, aside.why);
    }
  }

  private async markSending(message: OutboundMessage, parts: PartRow[]): Promise<void> {
    const ids = parts.map((part) => part.id);
    if (!(await this.store.markSending(message.id, ids))) {
      throw new DeliveryFailure('transient', 'busy', 'another run is sending this message');
    }
  }

  /** Acts on a failed send of `parts`; always throws (or sets the job aside). */
  private async handle(
    failure: DeliveryFailure,
    message: OutboundMessage,
    parts: PartRow[],
    control: RunControl,
  ): Promise<never> {
    const ids = parts.map((part) => part.id);
    this.metrics.deliveries.inc(
      { channel: message.channel ?? 'unknown', outcome: failure.kind, code: failure.reason },
      Math.max(1, parts.length),
    );
    const context = {
      merchantId: message.merchantId,
      messageId: message.id,
      reason: failure.record,
    };
    switch (failure.kind) {
      case 'permanent':
        throw failure;
      case 'transient':
        await this.store.markPending(ids, failure.record);
        await this.store.setStatus(message.id, 'queued', failure.record, ['queued']);
        // A throttled account is paused whole, for Meta's wait or, when it gave none, ours.
        if (failure.retryAfterMs) {
          await this.limiter.pause(message.merchantId, failure.retryAfterMs);
        } else if (failure.reason === 'rate_limited' && message.channel === 'instagram') {
          await this.limiter.pause(message.merchantId, this.settings.throttlePauseMs);
        }
        this.logger.warn(context, 'send not accepted; will retry');
        throw failure;
      case 'reauth':
        await this.merchants.markNeedsReauth(message.merchantId);
        this.logger.warn(context, 'Meta refused the merchant token: deliveries paused');
        return this.pausedForReauth(message, parts, control);
      case 'unknown_outcome':
        await this.store.markUnknown(message.id, ids, failure.record);
        this.logger.warn(context, 'the outcome of a send is unknown; waiting for its echo');
        return control.later(this.settings.reconcilePollMs, 'outcome of a send unknown');
    }
  }

  /** Deliveries through the Send API wait while the merchant must re-authorise. */
  private async pausedForReauth(
    message: OutboundMessage,
    parts: PartRow[],
    control: RunControl,
  ): Promise<never> {
    const note = 'needs_reauth: the merchant must connect Instagram again; delivery paused';
    await this.store.markPending(
      parts.map((part) => part.id),
      note,
    );
    await this.store.setStatus(message.id, 'queued', note, ['queued', 'unknown']);
    return control.later(this.settings.reauthRecheckMs, 'merchant needs re-authorisation');
  }
}

/** What a message sends: its text in parts, then its image. */
function itemsOf(message: OutboundMessage): OutboundItem[] {
  const texts = message.text ? splitText(message.text) : [];
  return [
    ...texts.map((text) => ({ kind: 'text' as const, text })),
    ...message.attachments
      .filter((attachment) => attachment.type === 'image' && attachment.url)
      .map((attachment) => ({ kind: 'image' as const, url: attachment.url ?? '' })),
  ];
}

function asFailure(error: unknown): DeliveryFailure {
  return error instanceof DeliveryFailure
    ? error
    : new DeliveryFailure('unknown_outcome', 'outcome_unknown', String(error));
}

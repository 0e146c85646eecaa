import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { DeliveredMessage, InstagramSimulator } from 'src/sandbox/instagram-simulator';
import { metaSignature } from 'src/webhook/meta-signature';

export interface SandboxCustomer {
  name: string;
  igsid: string;
}

/** What a customer can do in the sandbox. */
export type CustomerAction =
  | { kind: 'text'; text: string }
  | { kind: 'image'; url: string; text?: string }
  | { kind: 'story_reply'; text: string }
  | { kind: 'comment'; text: string }
  | { kind: 'like' };

export interface Timeline {
  /** Milliseconds after the webhook was sent. */
  stored?: number;
  ai?: number;
  sent?: number;
  source?: string;
  intent?: string;
}

export interface SandboxReply {
  parts: DeliveredMessage[];
  timeline: Timeline;
}

/** A stable, Instagram-looking IGSID for a demo customer's name. */
export function customerNamed(name: string): SandboxCustomer {
  const digits = BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 12)}`)
    .toString()
    .slice(0, 12);
  return { name, igsid: `1784${digits.padStart(12, '0')}` };
}

/**
 * Plays the customers: turns what they do into webhooks signed exactly as Meta signs them, sent to
 * Radd's real endpoint, and waits for the reply to reach the simulated Instagram.
 */
export class SandboxCustomers {
  private sequence = 0;

  constructor(
    private readonly radd: { webhookUrl: string; appSecret: string; accountId: string },
    private readonly instagram: InstagramSimulator,
    private readonly dataSource: DataSource,
    /** IGSID → name, for the simulated profile lookups. */
    private readonly names: Map<string, string>,
  ) {}

  /** Sends the action as a webhook; resolves once Radd answered 200. */
  async act(
    customer: SandboxCustomer,
    action: CustomerAction,
  ): Promise<{ body: string; sentAt: number }> {
    this.names.set(customer.igsid, customer.name);
    this.sequence += 1;
    const now = Date.now();
    const mid = `aWdfZAG1faXRlbTpjdXN0b21lcg${now.toString(36)}${this.sequence}`;
    const body = JSON.stringify({
      object: 'instagram',
      entry: [this.entry(customer, action, mid, now)],
    });
    const res = await fetch(this.radd.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': metaSignature(body, this.radd.appSecret),
      },
      body,
    });
    if (res.status !== 200) {
      throw new Error(`Radd answered the webhook with ${res.status}: ${await res.text()}`);
    }
    return { body, sentAt: now };
  }

  /** The reply parts that reach the simulated Instagram for this customer after `sentAt`. */
  async reply(
    customer: SandboxCustomer,
    sent: { body: string; sentAt: number },
    timeoutMs = 30_000,
  ): Promise<SandboxReply | null> {
    const parts: DeliveredMessage[] = this.instagram.delivered.filter(
      (message) => message.customerId === customer.igsid && message.receivedAt >= sent.sentAt,
    );
    await new Promise<void>((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const deadline = setTimeout(finish, timeoutMs);
      const stop = this.instagram.onDelivered((message) => {
        if (message.customerId !== customer.igsid) return;
        parts.push(message);
        clearTimeout(quiet);
        quiet = setTimeout(finish, 400);
      });
      if (parts.length > 0) quiet = setTimeout(finish, 400);
      function finish() {
        clearTimeout(deadline);
        clearTimeout(quiet);
        stop();
        resolve();
      }
    });
    if (parts.length === 0) return null;
    return { parts, timeline: await this.timeline(customer, sent, parts[0]) };
  }

  private async timeline(
    customer: SandboxCustomer,
    sent: { body: string; sentAt: number },
    first: DeliveredMessage,
  ): Promise<Timeline> {
    const [stored] = await this.dataSource.query<Array<{ received_at: Date }>>(
      `SELECT received_at FROM webhook_events WHERE raw_body = $1`,
      [Buffer.from(sent.body)],
    );
    const [reply] = await this.dataSource.query<
      Array<{ created_at: Date; intent: string | null; meta: { ai?: { source?: string } } }>
    >(
      `SELECT m.created_at, m.intent, m.meta FROM messages m
         JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
        WHERE cu.igsid = $1 AND m.sender = 'bot' AND m.created_at >= $2 ORDER BY m.created_at LIMIT 1`,
      [customer.igsid, new Date(sent.sentAt)],
    );
    return {
      stored: stored ? stored.received_at.getTime() - sent.sentAt : undefined,
      ai: reply ? reply.created_at.getTime() - sent.sentAt : undefined,
      sent: first.receivedAt - sent.sentAt,
      source: reply?.meta.ai?.source,
      intent: reply?.intent ?? undefined,
    };
  }

  private entry(
    customer: SandboxCustomer,
    action: CustomerAction,
    mid: string,
    now: number,
  ): Record<string, unknown> {
    const account = this.radd.accountId;
    if (action.kind === 'comment') {
      const commentId = `1786${now}`;
      this.instagram.rememberComment(commentId, customer.igsid);
      return {
        id: account,
        time: Math.floor(now / 1000),
        changes: [
          {
            field: 'comments',
            value: {
              id: commentId,
              text: action.text,
              from: { id: customer.igsid, username: customer.name },
              media: { id: '17900000000000001', media_product_type: 'FEED' },
            },
          },
        ],
      };
    }
    const message: Record<string, unknown> = { mid };
    switch (action.kind) {
      case 'text':
        message.text = action.text;
        break;
      case 'image':
        message.attachments = [{ type: 'image', payload: { url: action.url } }];
        if (action.text) message.text = action.text;
        break;
      case 'story_reply':
        message.text = action.text;
        message.reply_to = {
          story: {
            id: '17950000000000001',
            url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17950000000000001',
          },
        };
        break;
      case 'like':
        message.attachments = [{ type: 'like_heart' }];
        break;
    }
    return {
      id: account,
      time: now,
      messaging: [
        { sender: { id: customer.igsid }, recipient: { id: account }, timestamp: now, message },
      ],
    };
  }
}

/** One line of pipeline timing for people reading the chat. */
export function describeTimeline(timeline: Timeline): string {
  const ms = (value?: number) => (value === undefined ? '?' : `${value} ms`);
  return `received 0 ms → stored ${ms(timeline.stored)} → AI ${ms(timeline.ai)}${timeline.source ? ` (${timeline.source}${timeline.intent ? `, ${timeline.intent}` : ''})` : ''} → sent ${ms(timeline.sent)}`;
}

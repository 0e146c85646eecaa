import { createHash } from 'node:crypto';
import {
  FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
} from 'test/utils/fake-http-server';

/** A ManyChat API key of the real shape: `<page id>:<32 hex>`. */
export function manyChatKey(page = '1234567'): string {
  return `${page}:${createHash('md5').update(page).digest('hex')}`;
}

export interface ManyChatContentMessage {
  type: string;
  text?: string;
  url?: string;
  [field: string]: unknown;
}

/** One `POST /fb/sending/sendContent` as the fake understood it. */
export interface ManyChatSend {
  request: RecordedRequest;
  key: string | undefined;
  /** The subscriber id exactly as written in the body (digits of a JSON integer, or a string). */
  subscriberId: string | undefined;
  /** Whether `subscriber_id` was a JSON integer (the Swagger type). */
  subscriberIdIsInteger: boolean;
  tag?: string;
  version?: string;
  contentType?: string;
  messages: ManyChatContentMessage[];
  /** Whether the fake accepted it. */
  accepted: boolean;
}

export interface FakeSubscriber {
  id: string;
  igId?: string;
  igUsername?: string;
  /** Custom field values by field id. */
  fields?: Record<string, string>;
  /** Last interaction of the contact; sends without a tag are refused after 24 h (code 3011). */
  lastInteraction?: Date;
}

/** What the fake does with one send: undefined accepts it. */
export type ManyChatBehaviour = (send: ManyChatSend) => FakeResponse | undefined;

const KEY_SHAPE = /^\d+:[0-9a-f]{32}$/;
const INSTAGRAM_REFUSED = new Set(['video', 'audio', 'file', 'list']);

/** A ManyChat error in its wire format: `Response_Error_With_Code` (spec A.3). */
export function manyChatError(
  message: string,
  { code, status = 400 }: { code?: number; status?: number } = {},
): FakeResponse {
  return { status, body: { status: 'error', message, ...(code === undefined ? {} : { code }) } };
}

/**
 * ManyChat's public API on loopback, as manychat-openai spec A.10 describes it: sendContent
 * checks the key's shape (401 "Wrong token"), the v2 Instagram content and its limits (≤10
 * messages, ≤11 quick replies, ≤5 actions, no video/audio/file/list), the 24-hour rule (3011
 * without a tag), and answers `{status:"success"}`; findByCustomField and getInfo read the
 * contacts added with `addSubscriber`. Point MANYCHAT_BASE_URL at `url`.
 */
export class FakeManyChat {
  private behaviour: ManyChatBehaviour = () => undefined;
  private lookupBehaviour: (request: RecordedRequest) => FakeResponse | undefined = () => undefined;
  private readonly subscribers = new Map<string, FakeSubscriber>();
  private readonly received: ManyChatSend[] = [];

  private constructor(readonly server: FakeHttpServer) {
    server.on('POST', '/fb/sending/sendContent', (request) => this.sendContent(request));
    server.on('GET', '/fb/subscriber/findByCustomField', (request) => {
      if (!this.authorised(request)) return manyChatError('Wrong token', { status: 401 });
      const answer = this.lookupBehaviour(request);
      if (answer) return answer;
      const field = request.query.get('field_id') ?? '';
      const value = request.query.get('field_value') ?? '';
      const found = [...this.subscribers.values()].filter((s) => s.fields?.[field] === value);
      return { body: { status: 'success', data: found.map(subscriberView) } };
    });
    server.on('GET', '/fb/subscriber/getInfo', (request) => {
      if (!this.authorised(request)) return manyChatError('Wrong token', { status: 401 });
      const found = this.subscribers.get(request.query.get('subscriber_id') ?? '');
      return found
        ? { body: { status: 'success', data: subscriberView(found) } }
        : manyChatError('Validation error');
    });
  }

  static async start(): Promise<FakeManyChat> {
    return new FakeManyChat(await FakeHttpServer.start());
  }

  get url(): string {
    return this.server.url;
  }

  addSubscriber(subscriber: FakeSubscriber): void {
    this.subscribers.set(subscriber.id, subscriber);
  }

  behave(behaviour: ManyChatBehaviour): void {
    this.behaviour = behaviour;
  }

  /** Answers findByCustomField with what `behaviour` returns, where it returns anything. */
  behaveOnLookup(behaviour: (request: RecordedRequest) => FakeResponse | undefined): void {
    this.lookupBehaviour = behaviour;
  }

  /** Every sendContent received, in order (accepted or not). */
  get sends(): ManyChatSend[] {
    return [...this.received];
  }

  get accepted(): ManyChatSend[] {
    return this.received.filter((send) => send.accepted);
  }

  async waitForSends(count: number, timeoutMs = 10_000): Promise<ManyChatSend[]> {
    await this.server.waitFor(count, (r) => r.path === '/fb/sending/sendContent', timeoutMs);
    return this.sends;
  }

  reset(): void {
    this.server.requests.length = 0;
    this.received.length = 0;
    this.subscribers.clear();
    this.behaviour = () => undefined;
    this.lookupBehaviour = () => undefined;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private authorised(request: RecordedRequest): string | undefined {
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    return KEY_SHAPE.test(key) ? key : undefined;
  }

  private sendContent(request: RecordedRequest): FakeResponse {
    const body = (request.json ?? {}) as {
      subscriber_id?: unknown;
      message_tag?: unknown;
      data?: {
        version?: unknown;
        content?: {
          type?: unknown;
          messages?: unknown;
          actions?: unknown;
          quick_replies?: unknown;
        };
      };
    };
    const raw = request.rawBody.toString('utf8');
    const integer = /"subscriber_id"\s*:\s*(\d+)/.exec(raw)?.[1];
    const content = body.data?.content;
    const send: ManyChatSend = {
      request,
      key: this.authorised(request),
      subscriberId:
        integer ?? (typeof body.subscriber_id === 'string' ? body.subscriber_id : undefined),
      subscriberIdIsInteger: integer !== undefined,
      tag: typeof body.message_tag === 'string' ? body.message_tag : undefined,
      version: typeof body.data?.version === 'string' ? body.data.version : undefined,
      contentType: typeof content?.type === 'string' ? content.type : undefined,
      messages: Array.isArray(content?.messages)
        ? (content.messages as ManyChatContentMessage[])
        : [],
      accepted: false,
    };
    this.received.push(send);
    const answer = this.check(send, content) ?? this.behaviour(send);
    if (answer) return answer;
    send.accepted = true;
    return { body: { status: 'success' } };
  }

  private check(
    send: ManyChatSend,
    content: { actions?: unknown; quick_replies?: unknown } | undefined,
  ): FakeResponse | undefined {
    if (!send.key) return manyChatError('Wrong token', { status: 401 });
    if (!send.subscriberIdIsInteger) return validation('subscriber_id must be an integer');
    if (send.version !== 'v2') return validation('data.version must be v2');
    if (send.contentType !== 'instagram') {
      return validation('content.type must be instagram for this contact');
    }
    const actions = Array.isArray(content?.actions) ? content.actions.length : 0;
    const quickReplies = Array.isArray(content?.quick_replies) ? content.quick_replies.length : 0;
    if (send.messages.length === 0 || send.messages.length > 10) {
      return validation('content.messages must hold 1 to 10 messages');
    }
    if (actions > 5 || quickReplies > 11) return validation('too many actions or quick replies');
    if (send.messages.some((m) => INSTAGRAM_REFUSED.has(m.type))) {
      return validation('this message type is not supported by the Instagram channel');
    }
    if (send.tag !== undefined && send.tag !== 'HUMAN_AGENT') {
      return manyChatError("Content can't be sent to subscriber via this channel", { code: 3042 });
    }
    const subscriber = this.subscribers.get(send.subscriberId ?? '');
    const last = subscriber?.lastInteraction?.getTime();
    if (last !== undefined && Date.now() - last > 24 * 3_600_000 && send.tag === undefined) {
      return manyChatError(
        "Content can't be sent to subscriber without message tag. Subscriber's last interaction was over 24h ago.",
        { code: 3011 },
      );
    }
    return undefined;
  }
}

function validation(message: string): FakeResponse {
  return {
    status: 400,
    body: { status: 'error', message: 'Validation error', details: { messages: [{ message }] } },
  };
}

function subscriberView(subscriber: FakeSubscriber): Record<string, unknown> {
  return {
    id: subscriber.id,
    page_id: '1234567',
    name: subscriber.igUsername ?? 'contact',
    ig_id: subscriber.igId === undefined ? null : subscriber.igId,
    ig_username: subscriber.igUsername ?? null,
    last_interaction: subscriber.lastInteraction?.toISOString() ?? null,
    custom_fields: Object.entries(subscriber.fields ?? {}).map(([id, value]) => ({
      id,
      name: id,
      type: 'text',
      value,
    })),
    tags: [],
  };
}

import { randomBytes } from 'node:crypto';
import { metaSignature } from 'src/webhook/meta-signature';
import {
  FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
} from 'test/utils/fake-http-server';

/** One `POST /{version}/me/messages` as the fake Graph API understood it. */
export interface GraphSend {
  request: RecordedRequest;
  /** The bearer token (or `access_token` query parameter) it came with. */
  token: string | undefined;
  version: string;
  recipientId?: string;
  commentId?: string;
  messagingType?: string;
  tag?: string;
  senderAction?: string;
  text?: string;
  imageUrl?: string;
  /** The message id the fake answered with (success only). */
  messageId?: string;
}

/** What the fake does with one send: undefined accepts it. */
export type GraphBehaviour = (send: GraphSend) => FakeResponse | undefined;

interface SendBody {
  recipient?: { id?: unknown; comment_id?: unknown };
  messaging_type?: unknown;
  tag?: unknown;
  sender_action?: unknown;
  message?: { text?: unknown; attachment?: { type?: unknown; payload?: { url?: unknown } } };
}

/** A Graph error answer in Meta's wire format (meta-instagram spec §5.3). */
export function graphError(
  code: number,
  subcode?: number,
  {
    message = 'An error occurred',
    status = 400,
    headers = {},
    type = 'OAuthException',
  }: { message?: string; status?: number; headers?: Record<string, string>; type?: string } = {},
): FakeResponse {
  return {
    status,
    headers,
    body: {
      error: {
        message,
        type,
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        fbtrace_id: `A${randomBytes(8).toString('base64url')}`,
      },
    },
  };
}

const SEND_PATH = /^\/(v\d+\.\d+)\/me\/messages$/;
const PROFILE_PATH = /^\/(v\d+\.\d+)\/([^/]+)$/;
const TEXT_LIMIT_BYTES = 1000;

/**
 * The Instagram Send API on loopback (one host: point GRAPH_API_BASE_URL or
 * INSTAGRAM_API_BASE_URL at `url`). Speaks the wire format of meta-instagram spec §5: answers
 * `{recipient_id, message_id}`, refuses what Meta refuses (no token → 190, text over 1000 bytes
 * or a tag other than HUMAN_AGENT → 100, a second private reply to a comment → 100/2534025), and
 * can send the signed echo of each message to Radd's
 * webhook as Meta does.
 */
export class FakeGraph {
  private behaviour: GraphBehaviour = () => undefined;
  private echo?: { webhookUrl: string; accountId: string; secret: string; delayMs: number };
  private readonly commenters = new Map<string, string>();
  /** Comments that got their one private reply (meta-instagram §6). */
  private readonly repliedComments = new Set<string>();
  private readonly answered: GraphSend[] = [];
  private sequence = 0;

  private constructor(readonly server: FakeHttpServer) {
    server.on('POST', SEND_PATH, (request) => this.send(request));
    server.on('GET', PROFILE_PATH, (request) => ({
      body: {
        id: decodeURIComponent(PROFILE_PATH.exec(request.path)?.[2] ?? ''),
        name: 'زبون',
        username: 'customer',
        profile_pic: null,
      },
    }));
  }

  static async start(): Promise<FakeGraph> {
    return new FakeGraph(await FakeHttpServer.start());
  }

  get url(): string {
    return this.server.url;
  }

  /** Decides the answer to each send from now on (undefined: accept). */
  behave(behaviour: GraphBehaviour): void {
    this.behaviour = behaviour;
  }

  /** Sends the echo of every accepted message to Radd's webhook, signed like Meta. */
  echoTo(webhookUrl: string, accountId: string, secret: string, delayMs = 20): void {
    this.echo = { webhookUrl, accountId, secret, delayMs };
  }

  /** The commenter a private reply reaches (for its echo). */
  rememberComment(commentId: string, igsid: string): void {
    this.commenters.set(commentId, igsid);
  }

  /** Every call of the Send API received (messages and sender actions), in order. */
  get calls(): GraphSend[] {
    return [...this.answered];
  }

  /** Message sends only (no sender actions). */
  get messages(): GraphSend[] {
    return this.answered.filter((send) => send.senderAction === undefined);
  }

  /** Message sends the fake accepted. */
  get accepted(): GraphSend[] {
    return this.messages.filter((send) => send.messageId !== undefined);
  }

  async waitForMessages(count: number, timeoutMs = 10_000): Promise<GraphSend[]> {
    await this.server.waitFor(
      count,
      (request) => SEND_PATH.test(request.path) && !isSenderAction(request),
      timeoutMs,
    );
    return this.messages;
  }

  /** Forgets received calls, the behaviour and the echo target. */
  reset(): void {
    this.server.requests.length = 0;
    this.answered.length = 0;
    this.repliedComments.clear();
    this.behaviour = () => undefined;
    this.echo = undefined;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  /** Posts the echo of a message as Meta would (also usable by a test on its own). */
  async sendEcho(send: GraphSend, mid = send.messageId): Promise<void> {
    if (!this.echo || !mid) return;
    const recipient =
      send.recipientId ?? (send.commentId ? this.commenters.get(send.commentId) : undefined);
    const now = Date.now();
    const body = JSON.stringify({
      object: 'instagram',
      entry: [
        {
          id: this.echo.accountId,
          time: now,
          messaging: [
            {
              sender: { id: this.echo.accountId },
              recipient: { id: recipient ?? 'unknown' },
              timestamp: now,
              message: {
                mid,
                is_echo: true,
                ...(send.text !== undefined ? { text: send.text } : {}),
                ...(send.imageUrl !== undefined
                  ? {
                      attachments: [
                        {
                          type: 'image',
                          payload: {
                            url: `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${mid}`,
                          },
                        },
                      ],
                    }
                  : {}),
              },
            },
          ],
        },
      ],
    });
    await fetch(this.echo.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': metaSignature(body, this.echo.secret),
      },
      body,
    }).catch(() => undefined);
  }

  private send(request: RecordedRequest): FakeResponse {
    const body = (request.json ?? {}) as SendBody;
    const auth = request.headers.authorization;
    const send: GraphSend = {
      request,
      token: auth?.startsWith('Bearer ')
        ? auth.slice('Bearer '.length)
        : (request.query.get('access_token') ?? undefined),
      version: SEND_PATH.exec(request.path)?.[1] ?? '',
      recipientId: str(body.recipient?.id),
      commentId: str(body.recipient?.comment_id),
      messagingType: str(body.messaging_type),
      tag: str(body.tag),
      senderAction: str(body.sender_action),
      text: str(body.message?.text),
      imageUrl:
        body.message?.attachment?.type === 'image'
          ? str(body.message.attachment.payload?.url)
          : undefined,
    };
    this.answered.push(send);
    const refused = this.refusal(send, body);
    if (refused) return refused;
    const override = this.behaviour(send);
    if (override) return override;
    if (send.senderAction) return { body: { recipient_id: send.recipientId } };
    if (send.commentId) this.repliedComments.add(send.commentId);
    this.sequence += 1;
    send.messageId = `aWdfZAG1faXRlbTpJR01lc3NhZA${randomBytes(9).toString('base64url')}${this.sequence}`;
    if (this.echo) {
      const delay = this.echo.delayMs;
      setTimeout(() => void this.sendEcho(send), delay);
    }
    return {
      body: {
        recipient_id: send.recipientId ?? this.commenters.get(send.commentId ?? ''),
        message_id: send.messageId,
      },
    };
  }

  /** What Meta itself refuses, whatever the behaviour. */
  private refusal(send: GraphSend, body: SendBody): FakeResponse | undefined {
    if (!send.token) {
      return graphError(190, undefined, {
        message: 'An active access token must be used to query information about the current user.',
      });
    }
    if (!send.recipientId && !send.commentId) {
      return graphError(100, undefined, { message: '(#100) The parameter recipient is required' });
    }
    if (!send.senderAction && !body.message) {
      return graphError(100, undefined, { message: '(#100) The parameter message is required' });
    }
    if (send.text !== undefined && Buffer.byteLength(send.text, 'utf8') > TEXT_LIMIT_BYTES) {
      return graphError(100, undefined, {
        message: '(#100) Length of param message[text] must be less than or equal to 1000',
      });
    }
    if (send.tag !== undefined && send.tag !== 'HUMAN_AGENT') {
      return graphError(100, undefined, { message: '(#100) Tag is not supported for Instagram' });
    }
    // Instagram Login takes a tag without messaging_type (Meta's own collection sends only the
    // tag), not with another type.
    if (
      send.tag !== undefined &&
      send.messagingType !== undefined &&
      send.messagingType !== 'MESSAGE_TAG'
    ) {
      return graphError(100, undefined, {
        message: '(#100) tag requires messaging_type MESSAGE_TAG',
      });
    }
    if (send.commentId && !send.senderAction && this.repliedComments.has(send.commentId)) {
      return graphError(100, 2534025, {
        message: 'The comment is invalid for a private reply',
      });
    }
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function isSenderAction(request: RecordedRequest): boolean {
  return typeof (request.json as SendBody | undefined)?.sender_action === 'string';
}

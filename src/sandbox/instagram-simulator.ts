import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metaSignature } from 'src/webhook/meta-signature';

/** A message as the simulated Instagram received it from Radd. */
export interface DeliveredMessage {
  mid: string;
  /** The customer's IGSID (for a private reply: the commenter's). */
  customerId: string;
  text?: string;
  imageUrl?: string;
  commentId?: string;
  tag?: string;
  receivedAt: number;
}

interface Options {
  accountId: string;
  appSecret?: string;
  /** Where echoes go (Radd's webhook), set once Radd listens. */
  webhookUrl?: string;
  profiles: (igsid: string) => { name: string; username: string };
}

/**
 * The Instagram Graph API as far as Radd uses it, on loopback: the Send API (answering with a
 * message id, then sending the signed echo back to Radd's webhook as Meta does), sender actions
 * and profile lookups.
 */
export class InstagramSimulator {
  readonly delivered: DeliveredMessage[] = [];
  private readonly listeners = new Set<(message: DeliveredMessage) => void>();
  private readonly commenters = new Map<string, string>();
  private sequence = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: Options,
  ) {}

  static async start(options: Options): Promise<InstagramSimulator> {
    const server = createServer();
    const simulator = new InstagramSimulator(server, options);
    server.on('request', (req, res) => void simulator.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return simulator;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Where echoes go, signed with which secret: known once Radd listens. */
  sendEchoesTo(webhookUrl: string, appSecret: string): void {
    this.options.webhookUrl = webhookUrl;
    this.options.appSecret = appSecret;
  }

  /** Remembers who wrote a comment, so a private reply reaches that person. */
  rememberComment(commentId: string, igsid: string): void {
    this.commenters.set(commentId, igsid);
  }

  onDelivered(listener: (message: DeliveredMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const body = await readBody(req);
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const path = url.pathname.split('/').filter(Boolean);
    if (req.method === 'POST' && path.length === 3 && path[2] === 'messages') {
      send(200, this.message(body));
      return;
    }
    if (req.method === 'GET' && path.length === 2) {
      const profile = this.options.profiles(decodeURIComponent(path[1]));
      send(200, { ...profile, profile_pic: null, id: path[1] });
      return;
    }
    send(404, {
      error: { message: `Unknown path ${url.pathname}`, type: 'OAuthException', code: 100 },
    });
  }

  private message(body: unknown): unknown {
    const request = (body ?? {}) as {
      recipient?: { id?: string; comment_id?: string };
      sender_action?: string;
      tag?: string;
      message?: { text?: string; attachment?: { type?: string; payload?: { url?: string } } };
    };
    const commentId = request.recipient?.comment_id;
    const customerId =
      request.recipient?.id ??
      (commentId ? this.commenters.get(commentId) : undefined) ??
      'unknown';
    if (request.sender_action) return { recipient_id: customerId };
    this.sequence += 1;
    const mid = `aWdfZAG1faXRlbTpzYW5kYm94${Date.now().toString(36)}${this.sequence}`;
    const delivered: DeliveredMessage = {
      mid,
      customerId,
      text: request.message?.text,
      imageUrl:
        request.message?.attachment?.type === 'image'
          ? request.message.attachment.payload?.url
          : undefined,
      commentId,
      tag: request.tag,
      receivedAt: Date.now(),
    };
    this.delivered.push(delivered);
    for (const listener of this.listeners) listener(delivered);
    setTimeout(() => void this.echo(delivered), 30);
    return { recipient_id: customerId, message_id: mid };
  }

  /** Meta tells the business about every message it sent: the echo, signed like any webhook. */
  private async echo(message: DeliveredMessage): Promise<void> {
    if (!this.options.webhookUrl || !this.options.appSecret) return;
    const now = Date.now();
    const body = JSON.stringify({
      object: 'instagram',
      entry: [
        {
          id: this.options.accountId,
          time: now,
          messaging: [
            {
              sender: { id: this.options.accountId },
              recipient: { id: message.customerId },
              timestamp: now,
              message: {
                mid: message.mid,
                is_echo: true,
                ...(message.text ? { text: message.text } : {}),
                ...(message.imageUrl
                  ? { attachments: [{ type: 'image', payload: { url: message.imageUrl } }] }
                  : {}),
              },
            },
          ],
        },
      ],
    });
    await fetch(this.options.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': metaSignature(body, this.options.appSecret),
      },
      body,
    }).catch(() => undefined);
  }
}

/** A minimal ManyChat API: sendContent succeeds, lookups find nobody. */
export async function startManyChatSimulator(): Promise<{
  url: string;
  close: () => Promise<void>;
}> {
  const server = createServer((req, res) => {
    void readBody(req).then(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url?.includes('find')
            ? { status: 'success', data: [] }
            : { status: 'success', data: {} },
        ),
      );
    });
  });
  return listenOnLoopback(server);
}

/** Starts a simulator's server on a free loopback port: its origin, and how to stop it. */
export async function listenOnLoopback(
  server: Server,
): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request's JSON body; undefined when there is none or it is not JSON. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

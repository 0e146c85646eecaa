import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as a fake received it. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  receivedAt: number;
}

/** How a fake answers: a status and a body (objects as JSON), or never (`hang`). */
export type FakeAnswer =
  { status?: number; body?: unknown; headers?: Record<string, string> } | 'hang';

/**
 * A stand-in for an outside HTTP API on 127.0.0.1, lean enough for thousands of requests a
 * second: it keeps no log of its own (each fake counts what it needs). A `hang` answer holds the
 * request open until the client gives up or the server closes.
 */
export class LoopbackServer {
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(
    handler: (request: FakeRequest) => FakeAnswer | Promise<FakeAnswer>,
  ): Promise<LoopbackServer> {
    const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const request: FakeRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks),
          receivedAt: Date.now(),
        };
        Promise.resolve()
          .then(() => handler(request))
          .then(
            (answer) => respond(res, answer),
            (error: unknown) => respond(res, { status: 500, body: { error: String(error) } }),
          );
      });
    });
    const fake = new LoopbackServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function respond(res: ServerResponse, answer: FakeAnswer): void {
  if (answer === 'hang') return;
  const raw = typeof answer.body === 'string' || Buffer.isBuffer(answer.body);
  const payload =
    answer.body === undefined ? '' : raw ? (answer.body as string) : JSON.stringify(answer.body);
  res.writeHead(answer.status ?? 200, {
    ...(raw || answer.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...answer.headers,
  });
  res.end(payload);
}

/** The tracking tokens a text carries (see bench/lib/dms.ts): `rq` and lowercase letters. */
export function tokensIn(text: string): string[] {
  return text.match(/\brq[a-z]+\b/g) ?? [];
}

interface ChatRequest {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown }>;
}

/** The text of a chat message's content: a string, or the text parts of an array. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part as { type?: string; text?: unknown }).text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');
}

/** What the fake model does with one call (decided by its `onCall` hook). */
export type ModelCall = 'answer' | 'hang' | { status: number };

/**
 * An OpenAI-compatible model (`POST /v1/chat/completions`, the wire format of
 * test/utils/fake-openai.ts): the answer is INTERFACE §5's JSON, and its reply repeats the
 * tracking tokens of the turn (the last user message), so that a send can be traced back to the
 * customer messages it answers. It answers at once, or after `latencyMs`. No figure appears in
 * the reply, so the price guard lets it pass.
 */
export class FakeModel {
  calls = 0;
  /** How long each answer takes, in ms (0: at once). */
  latencyMs = 0;
  /** Called on every request before it is answered; may hold it or fail it. */
  onCall: (request: FakeRequest) => ModelCall = () => 'answer';

  private constructor(private readonly server: LoopbackServer) {}

  static async start(): Promise<FakeModel> {
    const box: { model?: FakeModel } = {};
    const server = await LoopbackServer.start((request) => box.model!.handle(request));
    box.model = new FakeModel(server);
    return box.model;
  }

  /** OPENAI_BASE_URL. */
  get baseUrl(): string {
    return `${this.server.url}/v1`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: FakeRequest): FakeAnswer | Promise<FakeAnswer> {
    if (this.latencyMs <= 0) return this.answer(request);
    return new Promise((resolve) =>
      setTimeout(() => resolve(this.answer(request)), this.latencyMs),
    );
  }

  private answer(request: FakeRequest): FakeAnswer {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') {
      return { status: 404, body: { error: { message: 'no such route' } } };
    }
    this.calls += 1;
    const decision = this.onCall(request);
    if (decision === 'hang') return 'hang';
    if (decision !== 'answer') {
      return {
        status: decision.status,
        body: { error: { message: 'The server had an error', type: 'server_error' } },
      };
    }
    let chat: ChatRequest = {};
    try {
      chat = JSON.parse(request.body.toString('utf8')) as ChatRequest;
    } catch {
      return { status: 400, body: { error: { message: 'invalid JSON' } } };
    }
    const lastUser = [...(chat.messages ?? [])].reverse().find((m) => m.role === 'user');
    const tokens = tokensIn(contentText(lastUser?.content));
    const answer = {
      reply: `تمام، وصلتنا رسالتك وراح نجاوبك هسه ${tokens.join(' ')}`.trim(),
      intent: 'product_inquiry',
      confidence: 0.9,
      needsHuman: false,
      productSkus: [],
      language: 'ar-IQ',
    };
    return {
      body: {
        id: `chatcmpl-${this.calls}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: `${chat.model ?? 'gpt-4o-mini'}-2024-07-18`,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: JSON.stringify(answer), refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 420, completion_tokens: 38, total_tokens: 458 },
      },
    };
  }
}

/** A ManyChat API key of the real shape (`<page id>:<32 hex>`). */
export const FAKE_MANYCHAT_KEY = '1234567:0123456789abcdef0123456789abcdef';

/** The API key of the `index`-th bench merchant's own ManyChat page. */
export function merchantManyChatKey(index: number): string {
  return `${2_000_000 + index}:0123456789abcdef0123456789abcdef`;
}
const MERCHANT_KEY = /^2\d{6}:0123456789abcdef0123456789abcdef$/;

/** One sendContent as the fake ManyChat read it. */
export interface ManyChatSend {
  subscriberId: string;
  texts: string[];
  receivedAt: number;
}

/**
 * What the fake ManyChat does with one send: accept it; answer an error status (e.g. 500), having
 * taken it all the same (`processed`: a 5xx says nothing of that) or not; or never answer, having
 * taken it (`processed`: the customer gets it and Meta sends its echo) or not.
 */
export type ManyChatOutcome =
  'accept' | { status: number; processed?: boolean } | { hang: true; processed: boolean };

/** How often one tracking token reached customers, and when first. */
export interface TokenDelivery {
  count: number;
  firstAt: number;
}

/**
 * ManyChat's `POST /fb/sending/sendContent` on loopback. Counts, per tracking token, the sends
 * that reached the customer (accepted, or taken and then left unanswered); `onDelivered` lets a
 * harness play Meta's part and send the echo of each delivered message back to Radd.
 */
export class FakeManyChat {
  received = 0;
  delivered = 0;
  refused = 0;
  hung = 0;
  readonly tokens = new Map<string, TokenDelivery>();
  /** Decides each send's fate (accept by default). */
  onSend: (send: ManyChatSend) => ManyChatOutcome = () => 'accept';
  /** Called for every send that reached the customer. */
  onDelivered: (send: ManyChatSend) => void = () => undefined;

  private constructor(private readonly server: LoopbackServer) {}

  static async start(): Promise<FakeManyChat> {
    const box: { fake?: FakeManyChat } = {};
    const server = await LoopbackServer.start((request) => box.fake!.handle(request));
    box.fake = new FakeManyChat(server);
    return box.fake;
  }

  /** MANYCHAT_BASE_URL. */
  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: FakeRequest): FakeAnswer {
    if (request.method === 'GET' && request.path === '/fb/subscriber/findByCustomField') {
      return { body: { status: 'success', data: [] } };
    }
    if (request.method !== 'POST' || request.path !== '/fb/sending/sendContent') {
      return { status: 404, body: { status: 'error', message: 'no such route' } };
    }
    const key = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
    if (key !== FAKE_MANYCHAT_KEY && !MERCHANT_KEY.test(key)) {
      return { status: 401, body: { status: 'error', message: 'Wrong token' } };
    }
    const raw = request.body.toString('utf8');
    const subscriberId = /"subscriber_id"\s*:\s*(\d+)/.exec(raw)?.[1];
    let messages: Array<{ type?: string; text?: unknown }> = [];
    try {
      const body = JSON.parse(raw) as { data?: { content?: { messages?: unknown } } };
      const list = body.data?.content?.messages;
      if (Array.isArray(list)) messages = list as typeof messages;
    } catch {
      // answered below
    }
    if (!subscriberId || messages.length === 0 || messages.length > 10) {
      return {
        status: 400,
        body: { status: 'error', message: 'Validation error', details: { messages: [] } },
      };
    }
    this.received += 1;
    const send: ManyChatSend = {
      subscriberId,
      texts: messages
        .map((message) => message.text)
        .filter((text): text is string => typeof text === 'string'),
      receivedAt: request.receivedAt,
    };
    const outcome = this.onSend(send);
    if (outcome === 'accept') {
      this.deliver(send);
      return { body: { status: 'success' } };
    }
    if ('hang' in outcome) {
      this.hung += 1;
      if (outcome.processed) this.deliver(send);
      return 'hang';
    }
    this.refused += 1;
    if (outcome.processed) this.deliver(send);
    return {
      status: outcome.status,
      body: { status: 'error', message: `HTTP ${outcome.status} from the fake` },
    };
  }

  private deliver(send: ManyChatSend): void {
    this.delivered += 1;
    for (const text of send.texts) {
      for (const token of tokensIn(text)) {
        const seen = this.tokens.get(token);
        if (seen) seen.count += 1;
        else this.tokens.set(token, { count: 1, firstAt: send.receivedAt });
      }
    }
    this.onDelivered(send);
  }
}

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  receivedAt: number;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  delayMs?: number;
  /** Never answer (the client's timeout is what is being tested). */
  hang?: boolean;
}

export type FakeHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

interface Route {
  method: string;
  path: string | RegExp;
  handler: FakeHandler;
}

/**
 * A stand-in for an outside HTTP API on 127.0.0.1: answers by route, records every request.
 * Routes added later win, so a test can override a default for a while and `reset()` after.
 */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private routes: Route[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeHttpServer> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void fake
          ?.handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks))
          .then((answer) => {
            if (answer.hang) return;
            const isRaw = typeof answer.body === 'string' || Buffer.isBuffer(answer.body);
            const payload =
              answer.body === undefined
                ? ''
                : isRaw
                  ? (answer.body as string | Buffer)
                  : JSON.stringify(answer.body);
            res.writeHead(answer.status ?? 200, {
              ...(isRaw || answer.body === undefined ? {} : { 'content-type': 'application/json' }),
              ...answer.headers,
            });
            res.end(payload);
          });
      });
    });
    const fake = new FakeHttpServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Answers `method path` (exact path, or a pattern) with a fixed response or a handler. */
  on(method: string, path: string | RegExp, answer: FakeHandler | FakeResponse): this {
    const handler = typeof answer === 'function' ? answer : () => answer;
    this.routes.unshift({ method: method.toUpperCase(), path, handler });
    return this;
  }

  /** The recorded requests to a route. */
  received(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((request) => matches({ method, path }, request));
  }

  /** Resolves once `count` recorded requests satisfy `predicate`, or rejects after `timeoutMs`. */
  async waitFor(
    count: number,
    predicate: (request: RecordedRequest) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.requests.filter(predicate);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `expected ${count} matching requests, got ${found.length} within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Forgets recorded requests and routes. */
  reset(): void {
    this.requests.length = 0;
    this.routes = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    rawBody: Buffer,
  ): Promise<FakeResponse> {
    const parsed = new URL(url, 'http://fake');
    const request: RecordedRequest = {
      method,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers,
      rawBody,
      json: parseJson(rawBody),
      receivedAt: Date.now(),
    };
    this.requests.push(request);
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
    const route = this.routes.find((candidate) => matches(candidate, request));
    const answer = route
      ? await route.handler(request)
      : {
          status: 404,
          body: { error: { message: `no fake route for ${method} ${parsed.pathname}` } },
        };
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    return answer;
  }
}

function matches(
  route: { method: string; path: string | RegExp },
  request: RecordedRequest,
): boolean {
  if (route.method.toUpperCase() !== request.method) return false;
  return typeof route.path === 'string'
    ? route.path === request.path
    : route.path.test(request.path);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

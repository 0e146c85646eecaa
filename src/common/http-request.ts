import { request } from 'undici';

/** What a provider answered: the status, the headers and the body as text. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpRequestInit {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole call's limit, answer body included. */
  timeoutMs?: number;
  /** Aborts the call (besides `timeoutMs`). */
  signal?: AbortSignal;
}

/**
 * The largest answer body read (what Radd calls answers in kilobytes): a provider that streams
 * more, by fault or by malice, costs a call and not the process's memory.
 */
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

/** An answer body over MAX_ANSWER_BYTES: the call fails and the rest is not read. */
export class AnswerTooLargeError extends Error {
  constructor(limit: number) {
    super(`the answer was larger than ${limit} bytes; not read`);
    this.name = 'AnswerTooLargeError';
  }
}

/** The body as UTF-8 text, read up to `limit` bytes; over it, the stream is closed and it throws. */
async function boundedText(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new AnswerTooLargeError(limit);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

/**
 * One call to an outside API (the model, ManyChat, Meta) over undici's keep-alive pool. undici's
 * `request` is what Node's `fetch` runs on, without the WHATWG layers (streams, Request and
 * Response objects) that made a call cost four to six times the CPU. A refused connection
 * rejects with its socket error (`code` ECONNREFUSED); a timeout with a `TimeoutError`.
 */
export async function httpRequest(url: string | URL, init: HttpRequestInit): Promise<HttpAnswer> {
  const signals = [
    ...(init.timeoutMs === undefined ? [] : [AbortSignal.timeout(init.timeoutMs)]),
    ...(init.signal ? [init.signal] : []),
  ];
  const answer = await request(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
  });
  const text = await boundedText(answer.body, MAX_ANSWER_BYTES);
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const one of value) headers.append(name, one);
  }
  return { status: answer.statusCode, headers, text };
}

/** Statuses whose answers have no body (a Response refuses one). */
const BODILESS = new Set([101, 204, 205, 304]);

/**
 * `httpRequest` behind the `fetch` signature, for SDKs that take a `fetch` of their own (the
 * OpenAI client). Text bodies only: Radd sends JSON.
 */
export async function leanFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  if (input instanceof Request) throw new TypeError('leanFetch takes a URL, not a Request');
  if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
    throw new TypeError('leanFetch sends text bodies only');
  }
  const method = (init.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new TypeError(`leanFetch: method ${method}`);
  const answer = await httpRequest(input, {
    method,
    headers: Object.fromEntries(new Headers(init.headers)),
    body: init.body ?? undefined,
    signal: init.signal ?? undefined,
  });
  return new Response(BODILESS.has(answer.status) ? null : answer.text, {
    status: answer.status,
    headers: answer.headers,
  });
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds, when present and sensible. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

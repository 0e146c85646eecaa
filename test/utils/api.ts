import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHmac } from 'node:crypto';
import { TokenService } from 'src/auth/token.service';
import { TEST_SECRETS } from 'test/utils/app';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined when there is none or it is not JSON). */
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, with this content type (default: JSON of `body`). */
  raw?: { contentType: string; data: string | Buffer };
  headers?: Record<string, string>;
}

/** One request to the app; every answer is also handed to `seen` (for scans of all responses). */
export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  options: RequestOptions = {},
  seen?: (text: string) => void,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.raw) {
    headers['content-type'] = options.raw.contentType;
    body = options.raw.data;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  seen?.(text);
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** A token the app accepts. */
export function adminToken(app: NestFastifyApplication, sub = 'e2e-admin'): string {
  return app.get(TokenService).issue({ role: 'admin', sub });
}

export function merchantToken(
  app: NestFastifyApplication,
  merchantId: string,
  sub = 'e2e-merchant',
): string {
  return app.get(TokenService).issue({ role: 'merchant', sub, merchantId });
}

/** A JWT built by hand, to try what a well-behaved issuer never makes. */
export function handMadeJwt(
  claims: Record<string, unknown>,
  {
    secret = TEST_SECRETS.JWT_SECRET,
    header = { alg: 'HS256', typ: 'JWT' },
  }: { secret?: string; header?: Record<string, unknown> } = {},
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  if (header.alg === 'none') return `${unsigned}.`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

export const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

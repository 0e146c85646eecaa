import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { getQueueToken } from '@nestjs/bullmq';
import { DataSource } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { metaSignature } from 'src/webhook/meta-signature';
import { TEST_SECRETS } from 'test/utils/app';

/** Posts a body to the Instagram webhook exactly as given, signed as Meta would sign it. */
export function postSigned(
  baseUrl: string,
  body: string | Buffer,
  {
    secret = TEST_SECRETS.META_APP_SECRET,
    headers = {},
  }: { secret?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return fetch(`${baseUrl}/webhooks/instagram`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': metaSignature(bytes, secret),
      ...headers,
    },
    body: bytes,
  });
}

export function database(app: NestFastifyApplication): DataSource {
  return app.get(DataSource);
}

export function queue(app: NestFastifyApplication, name: string): Queue {
  return app.get<Queue>(getQueueToken(name));
}

/** A unique Instagram-style account id (17841…). */
export function accountId(): string {
  return `17841${BigInt(`0x${randomBytes(6).toString('hex')}`)
    .toString()
    .padStart(12, '0')
    .slice(0, 12)}`;
}

/** Stores a merchant directly (the admin API is tested on its own). */
export async function createMerchant(
  app: NestFastifyApplication,
  fields: {
    instagramAccountId?: string;
    deliveryChannel?: 'manychat' | 'instagram';
    pageId?: string;
    instagramAccessToken?: string | null;
  } = {},
): Promise<{ id: string; instagramAccountId: string }> {
  const instagramAccountId = fields.instagramAccountId ?? accountId();
  const [row] = await database(app).query<Array<{ id: string }>>(
    `INSERT INTO merchants (name, instagram_account_id, page_id, delivery_channel, instagram_access_token)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [
      'متجر تجريبي',
      instagramAccountId,
      fields.pageId ?? null,
      fields.deliveryChannel ?? 'instagram',
      fields.instagramAccessToken ?? null,
    ],
  );
  return { id: row.id, instagramAccountId };
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One event from a customer to the account (any `messaging` item), in Meta's envelope. */
export function customerEvent(
  account: string,
  customer: string,
  timestamp: number,
  item: Record<string, unknown>,
): string {
  return JSON.stringify({
    object: 'instagram',
    entry: [
      {
        id: account,
        time: timestamp,
        messaging: [{ sender: { id: customer }, recipient: { id: account }, timestamp, ...item }],
      },
    ],
  });
}

/** A text DM from a customer to the account, in Meta's messaging envelope. */
export function textDm(
  account: string,
  customer: string,
  mid: string,
  text: string,
  timestamp = Date.now(),
): string {
  return customerEvent(account, customer, timestamp, { message: { mid, text } });
}

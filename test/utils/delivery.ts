import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { DELIVERY_SETTINGS, type DeliverySettings } from 'src/delivery/delivery-settings';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { credentialContext } from 'src/merchant/merchant-directory';
import { database } from 'test/utils/instagram';

/** Stores a merchant's credentials encrypted, as the admin API would. */
export async function setCredentials(
  app: NestFastifyApplication,
  merchantId: string,
  credentials: {
    instagramAccessToken?: string;
    manychatApiKey?: string;
    manychatSubscriberField?: string;
    inboundSecret?: string;
  },
): Promise<void> {
  const cipher = app.get(CredentialCipher);
  const seal = (
    field: 'instagramAccessToken' | 'manychatApiKey' | 'inboundSecret',
    value: string | undefined,
  ) =>
    value === undefined ? undefined : cipher.encrypt(value, credentialContext(merchantId, field));
  await database(app).query(
    `UPDATE merchants SET
       instagram_access_token = COALESCE($2, instagram_access_token),
       manychat_api_key = COALESCE($3, manychat_api_key),
       manychat_subscriber_field = COALESCE($4, manychat_subscriber_field),
       inbound_secret = COALESCE($5, inbound_secret)
     WHERE id = $1`,
    [
      merchantId,
      seal('instagramAccessToken', credentials.instagramAccessToken) ?? null,
      seal('manychatApiKey', credentials.manychatApiKey) ?? null,
      credentials.manychatSubscriberField ?? null,
      seal('inboundSecret', credentials.inboundSecret) ?? null,
    ],
  );
}

/** Sets delivery timings on a running app (its own settings object). */
export function tuneDelivery(
  app: NestFastifyApplication,
  settings: Partial<DeliverySettings>,
): void {
  Object.assign(app.get<DeliverySettings>(DELIVERY_SETTINGS, { strict: false }), settings);
}

/** A customer and their conversation, the customer's last message `lastCustomerMessageAgoMs` ago. */
export async function createConversation(
  app: NestFastifyApplication,
  merchantId: string,
  {
    igsid = `igsid-${randomBytes(5).toString('hex')}`,
    subscriberId = null,
    lastCustomerMessageAgoMs = 60_000,
  }: {
    igsid?: string | null;
    subscriberId?: string | null;
    lastCustomerMessageAgoMs?: number;
  } = {},
): Promise<{ conversationId: string; customerId: string; igsid: string | null }> {
  const db = database(app);
  const [customer] = await db.query<Array<{ id: string }>>(
    `INSERT INTO customers (merchant_id, igsid, manychat_subscriber_id) VALUES ($1, $2, $3) RETURNING id`,
    [merchantId, igsid, subscriberId],
  );
  const at = new Date(Date.now() - lastCustomerMessageAgoMs);
  const [conversation] = await db.query<Array<{ id: string }>>(
    `INSERT INTO conversations (merchant_id, customer_id, last_message_at, last_customer_message_at)
     VALUES ($1, $2, $3, $3) RETURNING id`,
    [merchantId, customer.id, at],
  );
  await db.query(
    `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, occurred_at)
     VALUES ($1, $2, 'in', 'customer', 'text', 'هلو', $3)`,
    [merchantId, conversation.id, at],
  );
  return { conversationId: conversation.id, customerId: customer.id, igsid };
}

/**
 * Stores an outbound message the way the AI stage does (`queued`, channel left to delivery)
 * and, unless told otherwise, hands it to delivery.
 */
export async function queueReply(
  app: NestFastifyApplication,
  merchantId: string,
  conversationId: string,
  {
    text,
    sender = 'bot',
    attachments = [],
    meta = {},
    channel = null,
    enqueue = true,
  }: {
    text: string | null;
    sender?: 'bot' | 'human';
    attachments?: Array<{ type: string; url?: string }>;
    meta?: Record<string, unknown>;
    channel?: 'manychat' | 'instagram' | null;
    enqueue?: boolean;
  },
): Promise<string> {
  const [message] = await database(app).query<Array<{ id: string }>>(
    `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, attachments, delivery_status, channel, meta, occurred_at)
     VALUES ($1, $2, 'out', $3, 'text', $4, $5, 'queued', $6, $7, now()) RETURNING id`,
    [
      merchantId,
      conversationId,
      sender,
      text,
      JSON.stringify(attachments),
      channel,
      JSON.stringify(meta),
    ],
  );
  if (enqueue) await app.get(MessageDeliveryProducer).enqueue(merchantId, message.id);
  return message.id;
}

export interface DeliveryState {
  delivery_status: string | null;
  delivery_error: string | null;
  channel: string | null;
  provider_message_id: string | null;
  mid: string | null;
  parts: Array<{
    seq: number;
    kind: string;
    text: string | null;
    status: string;
    attempts: number;
    provider_message_id: string | null;
    mid: string | null;
  }>;
}

/** The message's delivery state and its parts. */
export async function deliveryState(
  app: NestFastifyApplication,
  messageId: string,
): Promise<DeliveryState> {
  const db = database(app);
  const [message] = await db.query<Array<Omit<DeliveryState, 'parts'>>>(
    `SELECT delivery_status, delivery_error, channel, provider_message_id, mid FROM messages WHERE id = $1`,
    [messageId],
  );
  const parts = await db.query<DeliveryState['parts']>(
    `SELECT seq, kind, text, status, attempts, provider_message_id, mid FROM delivery_parts
      WHERE message_id = $1 ORDER BY seq`,
    [messageId],
  );
  return { ...message, parts };
}

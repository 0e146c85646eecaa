import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { typeOrmOptions } from 'src/database/typeorm-options';

/** A connection pool of the test's own on this test file's database (no app around it). */
export async function openDatabase(poolSize: number): Promise<DataSource> {
  const dataSource = new DataSource(
    typeOrmOptions({ url: process.env.DATABASE_URL ?? '', poolSize }),
  );
  return dataSource.initialize();
}

/** A merchant written straight to the table, for tests below the API; answers its id. */
export async function insertMerchant(
  dataSource: DataSource,
  name: string,
  deliveryChannel: 'manychat' | 'instagram',
  instagramAccountId?: string,
): Promise<string> {
  const id = randomUUID();
  await dataSource.query(
    `INSERT INTO merchants (id, name, instagram_account_id, delivery_channel)
     VALUES ($1, $2, $3, $4)`,
    [id, name, instagramAccountId ?? `ig-${id}`, deliveryChannel],
  );
  return id;
}

/** A new customer's conversation with `messages` messages of theirs, none answered (oldest first). */
export async function insertTurn(
  dataSource: DataSource,
  merchantId: string,
  messages = 1,
): Promise<{ conversationId: string; ids: string[] }> {
  const [customer] = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO customers (merchant_id, igsid) VALUES ($1, $2) RETURNING id`,
    [merchantId, `igsid-${randomUUID()}`],
  );
  const [conversation] = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO conversations (merchant_id, customer_id, last_customer_message_at)
     VALUES ($1, $2, now()) RETURNING id`,
    [merchantId, customer.id],
  );
  const rows = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, occurred_at)
     SELECT $1, $2, 'in', 'customer', 'text', 'شكد السعر؟', now() - (n || ' seconds')::interval
       FROM generate_series($3::int, 1, -1) AS n
     RETURNING id`,
    [merchantId, conversation.id, messages],
  );
  return { conversationId: conversation.id, ids: rows.map((row) => row.id) };
}

/** A part of a reply as the reply's store takes it. */
export type ReplyPart = { kind: 'text'; text: string } | { kind: 'image'; url: string };

/**
 * The parameters of STORE_REPLY (src/ai/conversation-ai.orchestrator) for a ManyChat reply
 * answering the turn `ids` (oldest first) with `parts`, nothing owed before.
 */
export function storeReplyParameters(
  merchantId: string,
  conversationId: string,
  ids: string[],
  parts: ReplyPart[],
): unknown[] {
  return [
    merchantId,
    conversationId,
    'هلا بيك',
    '[]',
    'price_inquiry',
    '{}',
    ids[ids.length - 1],
    ids,
    false,
    null,
    'manychat',
    parts.map((part) => part.kind),
    parts.map((part) => (part.kind === 'text' ? part.text : null)),
    parts.map((part) => (part.kind === 'image' ? part.url : null)),
  ];
}

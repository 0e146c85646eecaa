import type { DataSource } from 'typeorm';
import { STORE_REPLY } from 'src/ai/conversation-ai.orchestrator';
import {
  insertMerchant,
  insertTurn,
  openDatabase,
  storeReplyParameters,
} from 'test/utils/database';
import { DeliveryPartStore } from 'src/delivery/delivery-part.store';

/**
 * The hot statements that look rows up by a list of ids must keep a generic plan: PostgreSQL
 * costs `id = ANY($1)` as ten ids, and a statement led by it is planned again on every call.
 * One connection, so `pg_prepared_statements` shows the statements these calls prepared.
 */
describe('generic plans of the hot statements (e2e)', () => {
  const RUNS = 8;
  let dataSource: DataSource;
  let merchantId: string;

  beforeAll(async () => {
    dataSource = await openDatabase(1);
    merchantId = await insertMerchant(dataSource, 'Plans', 'instagram');
    // A shop that has been running: the costs PostgreSQL weighs depend on the tables' sizes.
    await dataSource.query(
      `WITH cu AS (
         INSERT INTO customers (merchant_id, igsid)
         SELECT $1, 'history-' || n FROM generate_series(1, 2000) AS n RETURNING id
       ),
       co AS (
         INSERT INTO conversations (merchant_id, customer_id, last_customer_message_at)
         SELECT $1, id, now() - interval '2 days' FROM cu RETURNING id
       ),
       m AS (
         INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text,
                               delivery_status, occurred_at)
         SELECT $1, co.id, CASE WHEN n % 2 = 0 THEN 'in' ELSE 'out' END,
                CASE WHEN n % 2 = 0 THEN 'customer' ELSE 'bot' END, 'text', 'هلو',
                CASE WHEN n % 2 = 0 THEN NULL ELSE 'sent' END, now() - (n || ' minutes')::interval
           FROM co, generate_series(1, 10) AS n
         RETURNING id, direction
       )
       INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, status, attempts)
       SELECT $1, id, 0, 'text', 'هلو', 'sent', 1 FROM m WHERE direction = 'out'`,
      [merchantId],
    );
  });

  afterAll(() => dataSource.destroy());

  const turn = (messages: number) => insertTurn(dataSource, merchantId, messages);

  async function plans(text: string): Promise<{ generic: number; custom: number }> {
    const [row] = await dataSource.query<Array<{ generic: string; custom: string }>>(
      `SELECT generic_plans AS generic, custom_plans AS custom
         FROM pg_prepared_statements WHERE statement = $1`,
      [text],
    );
    return { generic: Number(row?.generic ?? 0), custom: Number(row?.custom ?? 0) };
  }

  it('stores replies and their parts on a generic plan, one reply per turn, and none for a turn answered before', async () => {
    const turns = [];
    for (let run = 0; run < RUNS; run += 1) turns.push(await turn(1 + (run % 3)));
    await dataSource.query(`ANALYZE messages, conversations`);
    const store = (conversationId: string, ids: string[]) =>
      dataSource.query<Array<{ open: boolean; id: string | null; parts: string[] }>>(
        STORE_REPLY,
        storeReplyParameters(merchantId, conversationId, ids, [
          { kind: 'text', text: 'هلا بيك' },
          { kind: 'image', url: 'https://cdn.example/p.jpg' },
        ]),
      );
    for (const { conversationId, ids } of turns) {
      const [stored] = await store(conversationId, ids);
      expect(stored).toEqual({
        open: true,
        id: expect.any(String) as unknown,
        parts: [expect.any(String), expect.any(String)] as unknown,
      });
      const parts = await dataSource.query<Array<Record<string, unknown>>>(
        `SELECT p.id, p.seq, p.kind, p.status, p.attempts, m.channel
           FROM delivery_parts p JOIN messages m ON m.id = p.message_id
          WHERE p.message_id = $1 ORDER BY p.seq`,
        [stored.id],
      );
      expect(parts).toEqual([
        {
          id: stored.parts[0],
          seq: 0,
          kind: 'text',
          status: 'pending',
          attempts: 0,
          channel: 'manychat',
        },
        {
          id: stored.parts[1],
          seq: 1,
          kind: 'image',
          status: 'pending',
          attempts: 0,
          channel: 'manychat',
        },
      ]);
      const answered = await dataSource.query<Array<{ answered_by: string }>>(
        `SELECT answered_by FROM messages WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      expect(answered.map((row) => row.answered_by)).toEqual(ids.map(() => stored.id));
    }
    // A turn one of whose messages is answered already is not open: nothing is stored.
    const [again] = await store(turns[0].conversationId, turns[0].ids);
    expect(again).toEqual({ open: false, id: null, parts: [] });
    const [replies] = await dataSource.query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM messages WHERE merchant_id = $1 AND answers_through IS NOT NULL`,
      [merchantId],
    );
    expect(Number(replies.n)).toBe(RUNS);

    const { generic, custom } = await plans(STORE_REPLY);
    expect(generic).toBeGreaterThan(0);
    expect(custom).toBeLessThanOrEqual(5);
  });

  it('marks parts sending and sent on generic plans', async () => {
    const parts = new DeliveryPartStore(dataSource);
    const rows = await dataSource.query<Array<{ id: string; message_id: string }>>(
      `WITH reply AS (
         INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text,
                               delivery_status, occurred_at)
         SELECT $1, c.id, 'out', 'bot', 'text', 'هلا', 'queued', now()
           FROM conversations c
           JOIN customers cu ON cu.id = c.customer_id AND cu.igsid LIKE 'igsid-%'
          WHERE c.merchant_id = $1
         RETURNING id
       )
       INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, status, attempts)
       SELECT $1, reply.id, 0, 'text', 'هلا', 'pending', 0 FROM reply
       RETURNING id, message_id`,
      [merchantId],
    );
    expect(rows.length).toBeGreaterThanOrEqual(RUNS);
    await dataSource.query(`ANALYZE delivery_parts, messages`);
    for (const row of rows) {
      expect(await parts.markSending(row.message_id, [row.id])).toBe(true);
      await parts.markSent(row.message_id, [row.id], undefined, true);
    }
    const statuses = await dataSource.query<Array<{ status: string }>>(
      `SELECT DISTINCT status FROM delivery_parts WHERE id = ANY($1::uuid[])`,
      [rows.map((row) => row.id)],
    );
    expect(statuses).toEqual([{ status: 'sent' }]);

    const [text] = await dataSource.query<Array<{ statement: string }>>(
      `SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%UPDATE delivery_parts%SET status = CASE WHEN status = ''delivered''%'`,
    );
    const { generic, custom } = await plans(text.statement);
    expect(generic).toBeGreaterThan(0);
    expect(custom).toBeLessThanOrEqual(5);

    const [sending] = await dataSource.query<Array<{ statement: string }>>(
      `SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%UPDATE delivery_parts SET status = ''sending''%'`,
    );
    const marked = await plans(sending.statement);
    expect(marked.generic).toBeGreaterThan(0);
    expect(marked.custom).toBeLessThanOrEqual(5);
  });
});

import type { DataSource } from 'typeorm';
import { insertMerchant, openDatabase } from 'test/utils/database';
import { DeliveryPartStore } from 'src/delivery/delivery-part.store';

interface Reply {
  messageId: string;
  partIds: string[];
}

/**
 * The `sending` and `sent` marks of sends running at the same time are written together, one
 * statement for all of them, and each caller still learns its own outcome.
 */
describe('delivery marks written together (e2e)', () => {
  let dataSource: DataSource;
  let store: DeliveryPartStore;
  let merchantId: string;
  let conversationId: string;
  let statements: jest.SpyInstance;

  beforeAll(async () => {
    dataSource = await openDatabase(4);
    merchantId = await insertMerchant(dataSource, 'Marks', 'manychat');
    const [customer] = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO customers (merchant_id, igsid) VALUES ($1, 'igsid-marks') RETURNING id`,
      [merchantId],
    );
    const [conversation] = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO conversations (merchant_id, customer_id, last_customer_message_at)
       VALUES ($1, $2, now()) RETURNING id`,
      [merchantId, customer.id],
    );
    conversationId = conversation.id;
  });

  beforeEach(() => {
    store = new DeliveryPartStore(dataSource);
    statements = jest.spyOn(dataSource, 'query');
  });

  afterEach(() => statements.mockRestore());

  afterAll(() => dataSource.destroy());

  /** A queued reply with `parts` parts, all `pending` unless `statuses` says otherwise. */
  async function reply(parts: number, statuses: string[] = []): Promise<Reply> {
    const [message] = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text,
                             delivery_status, channel, occurred_at)
       VALUES ($1, $2, 'out', 'bot', 'text', 'هلا بيك', 'queued', 'manychat', now()) RETURNING id`,
      [merchantId, conversationId],
    );
    const rows = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, status, attempts)
       SELECT $1, $2, n - 1, 'text', 'جزء ' || n, COALESCE(($4::text[])[n], 'pending'), 0
         FROM generate_series(1, $3::int) AS n
       ORDER BY n RETURNING id`,
      [merchantId, message.id, parts, statuses],
    );
    return { messageId: message.id, partIds: rows.map((row) => row.id) };
  }

  async function partsOf(messageId: string) {
    return dataSource.query<Array<{ status: string; attempts: number; provider: string | null }>>(
      `SELECT status, attempts, provider_message_id AS provider FROM delivery_parts
        WHERE message_id = $1 ORDER BY seq`,
      [messageId],
    );
  }

  async function messageOf(messageId: string) {
    const [row] = await dataSource.query<
      Array<{ status: string; provider: string | null; error: string | null }>
    >(
      `SELECT delivery_status AS status, provider_message_id AS provider, delivery_error AS error
         FROM messages WHERE id = $1`,
      [messageId],
    );
    return row;
  }

  it('marks the parts of concurrent sends `sending` in one statement, each with its answer', async () => {
    const replies = await Promise.all([reply(1), reply(2), reply(3), reply(1)]);
    // A part that is no longer pending: that send must not go.
    const taken = await reply(2, ['pending', 'sent']);
    statements.mockClear();

    const answers = await Promise.all(
      [...replies, taken].map((r) => store.markSending(r.messageId, r.partIds)),
    );

    expect(answers).toEqual([true, true, true, true, false]);
    expect(statements).toHaveBeenCalledTimes(1);
    for (const r of replies) {
      expect(await partsOf(r.messageId)).toEqual(
        r.partIds.map(() => ({ status: 'sending', attempts: 1, provider: null })),
      );
    }
    expect((await partsOf(taken.messageId)).map((part) => part.status)).toEqual([
      'sending',
      'sent',
    ]);
  });

  it('lets only the first of two runs of one message mark its parts', async () => {
    const one = await reply(2);
    const other = await reply(1);
    statements.mockClear();

    const answers = await Promise.all([
      store.markSending(one.messageId, one.partIds),
      store.markSending(other.messageId, other.partIds),
      store.markSending(one.messageId, one.partIds),
    ]);

    expect(answers).toEqual([true, true, false]);
    expect((await partsOf(one.messageId)).map((part) => part.attempts)).toEqual([1, 1]);
  });

  it('marks concurrent sends `sent` in one statement and finishes the messages they end', async () => {
    const done = await reply(1);
    const withId = await reply(1);
    const halfway = await reply(2);
    const confirmed = await reply(1, ['delivered']);
    const first = halfway.partIds.slice(0, 1);
    for (const r of [done, withId, confirmed]) await store.markSending(r.messageId, r.partIds);
    await store.markSending(halfway.messageId, first);
    statements.mockClear();

    await Promise.all([
      store.markSent(done.messageId, done.partIds, undefined, true),
      store.markSent(withId.messageId, withId.partIds, 'mid.provider-1', true),
      store.markSent(halfway.messageId, first, undefined, false),
      store.markSent(confirmed.messageId, confirmed.partIds, undefined, true),
    ]);

    expect(statements).toHaveBeenCalledTimes(1);
    expect(await messageOf(done.messageId)).toEqual({
      status: 'sent',
      provider: null,
      error: null,
    });
    expect(await messageOf(withId.messageId)).toEqual({
      status: 'sent',
      provider: 'mid.provider-1',
      error: null,
    });
    expect((await partsOf(withId.messageId))[0].provider).toBe('mid.provider-1');
    // Not its last parts: the message stays queued, its second part pending.
    expect((await messageOf(halfway.messageId)).status).toBe('queued');
    expect((await partsOf(halfway.messageId)).map((part) => part.status)).toEqual([
      'sent',
      'pending',
    ]);
    // An echo confirmed it before the answer: it stays delivered, and so does the message.
    expect((await partsOf(confirmed.messageId))[0].status).toBe('delivered');
    expect((await messageOf(confirmed.messageId)).status).toBe('delivered');
  });

  it('writes a lone mark by itself, as before', async () => {
    const r = await reply(1);
    statements.mockClear();

    expect(await store.markSending(r.messageId, r.partIds)).toBe(true);
    await store.markSent(r.messageId, r.partIds, undefined, true);

    expect(statements).toHaveBeenCalledTimes(2);
    expect((await messageOf(r.messageId)).status).toBe('sent');
  });

  describe('a sending mark whose answer was lost', () => {
    /** The next statement runs, then its answer is lost (PostgreSQL went away as it committed). */
    function loseNextAnswer(): void {
      const query = dataSource.query.bind(dataSource);
      statements.mockImplementationOnce(async (...args: Parameters<DataSource['query']>) => {
        await query(...args);
        throw new Error('Connection terminated');
      });
    }

    async function statusOf(messageId: string): Promise<string> {
      return (await partsOf(messageId))[0].status;
    }

    it('sends its parts at once on the next run of the same process: no call followed it', async () => {
      const r = await reply(1);
      loseNextAnswer();
      await expect(store.markSending(r.messageId, r.partIds)).rejects.toThrow(
        'Connection terminated',
      );
      expect(await statusOf(r.messageId)).toBe('sending');

      expect(await store.settleCrashed(r.messageId)).toBe(0);
      expect(await statusOf(r.messageId)).toBe('pending');
      // The next mark goes as any other.
      expect(await store.markSending(r.messageId, r.partIds)).toBe(true);
    });

    it('leaves parts of unknown outcome to wait for their echo when the mark was not lost here', async () => {
      const crashed = await reply(1);
      // A run that marked its parts and died before the answer came: the call may have gone.
      expect(await store.markSending(crashed.messageId, crashed.partIds)).toBe(true);
      const lostElsewhere = await reply(1);
      loseNextAnswer();
      await expect(
        store.markSending(lostElsewhere.messageId, lostElsewhere.partIds),
      ).rejects.toThrow();

      // Another process knows nothing of either.
      const other = new DeliveryPartStore(dataSource);
      expect(await other.settleCrashed(crashed.messageId)).toBe(1);
      expect(await other.settleCrashed(lostElsewhere.messageId)).toBe(1);
      expect(await statusOf(crashed.messageId)).toBe('unknown');
      expect(await statusOf(lostElsewhere.messageId)).toBe('unknown');
    });

    it('does not release parts another run marked after the lost mark', async () => {
      const r = await reply(1);
      // The mark fails before PostgreSQL saw it; another run then marks the parts and calls.
      statements.mockImplementationOnce(() => Promise.reject(new Error('Connection terminated')));
      await expect(store.markSending(r.messageId, r.partIds)).rejects.toThrow();
      expect(await new DeliveryPartStore(dataSource).markSending(r.messageId, r.partIds)).toBe(
        true,
      );

      expect(await store.settleCrashed(r.messageId)).toBe(1);
      expect(await statusOf(r.messageId)).toBe('unknown');
    });
  });
});

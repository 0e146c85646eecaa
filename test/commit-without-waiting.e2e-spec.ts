import { randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { STORE_REPLY } from 'src/ai/conversation-ai.orchestrator';
import {
  insertMerchant,
  insertTurn,
  openDatabase,
  storeReplyParameters,
} from 'test/utils/database';
import { CustomerMessageBatch } from 'src/webhook/customer-message.batch';
import { parseInstagramWebhook } from 'src/webhook/instagram-event.parser';
import type { MessageEvent } from 'src/webhook/instagram-events';
import { textDm } from 'test/utils/instagram';

/**
 * The two statements that commit without waiting for the disk (a customer message's store and a
 * reply's) turn `synchronous_commit` off for their own transaction and no further: the next
 * transaction on the connection, whatever it writes, waits for its commit to be durable again.
 * One connection, so that the next statement runs where the last one did.
 */
describe('commits that do not wait for the disk (e2e)', () => {
  let dataSource: DataSource;
  let merchantId: string;
  const account = `ig-${randomUUID()}`;

  beforeAll(async () => {
    dataSource = await openDatabase(1);
    merchantId = await insertMerchant(dataSource, 'Lazy commits', 'manychat', account);
  });

  afterAll(() => dataSource.destroy());

  const synchronousCommit = async (runner: QueryRunner | DataSource): Promise<string> => {
    const rows = (await runner.query(`SHOW synchronous_commit`)) as Array<{
      synchronous_commit: string;
    }>;
    return rows[0].synchronous_commit;
  };

  /** Runs `work` in a transaction of its own and answers the setting it left, then rolls back. */
  async function settingWithin(work: (runner: QueryRunner) => Promise<void>): Promise<string> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await work(runner);
      return await synchronousCommit(runner);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }

  it("stores a customer's message without waiting, and the connection's next transaction waits again", async () => {
    const message = async (): Promise<Parameters<CustomerMessageBatch['store']>[0][number]> => {
      const mid = `m-${randomUUID()}`;
      const body = textDm(account, `c-${randomUUID()}`, mid, 'عندكم قمصان؟');
      const [webhook] = await dataSource.query<Array<{ id: string }>>(
        `INSERT INTO webhook_events (source, raw_body) VALUES ('instagram', $1) RETURNING id`,
        [Buffer.from(body)],
      );
      const [event] = parseInstagramWebhook(JSON.parse(body)) as MessageEvent[];
      return {
        webhookEventId: webhook.id,
        merchant: {
          id: merchantId,
          instagramAccountId: account,
          pageId: null,
          deliveryChannel: 'manychat',
        },
        event,
      };
    };

    const first = await message();
    const within = await settingWithin(async (runner) => {
      const batch = new CustomerMessageBatch({
        query: (sql: string, parameters: unknown[]) => runner.query(sql, parameters),
      } as unknown as DataSource);
      const [stored] = await batch.store([first]);
      expect(stored?.status).toBe('applied');
    });
    expect(within).toBe('off');

    const second = await message();
    const [stored] = await new CustomerMessageBatch(dataSource).store([second]);
    expect(stored?.answer?.owed).toBe(true);
    expect(await synchronousCommit(dataSource)).toBe('on');
  });

  it("stores a reply without waiting, and the connection's next transaction waits again", async () => {
    const parameters = ({ conversationId, ids }: { conversationId: string; ids: string[] }) =>
      storeReplyParameters(merchantId, conversationId, ids, [{ kind: 'text', text: 'هلا بيك' }]);
    const turn = () => insertTurn(dataSource, merchantId);

    const first = await turn();
    const within = await settingWithin(async (runner) => {
      const [stored] = (await runner.query(STORE_REPLY, parameters(first))) as Array<{
        open: boolean;
      }>;
      expect(stored.open).toBe(true);
    });
    expect(within).toBe('off');

    const second = await turn();
    const [stored] = await dataSource.query<Array<{ open: boolean; id: string }>>(
      STORE_REPLY,
      parameters(second),
    );
    expect(stored.open).toBe(true);
    expect(await synchronousCommit(dataSource)).toBe('on');
    const [reply] = await dataSource.query<Array<{ answers_through: string }>>(
      `SELECT answers_through FROM messages WHERE id = $1`,
      [stored.id],
    );
    expect(reply.answers_through).toBe(second.ids[0]);
  });
});

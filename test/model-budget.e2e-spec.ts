import { startApp, type TestApp } from 'test/utils/app';
import { FakeGraph } from 'test/utils/fake-graph';
import { FakeOpenAi } from 'test/utils/fake-openai';
import { setCredentials } from 'test/utils/delivery';
import { createMerchant, database, eventually, postSigned, textDm } from 'test/utils/instagram';

interface Reply {
  text: string;
  meta: { ai: { source: string; reason?: string } };
}

/**
 * AI_DAILY_TOKENS_PER_MERCHANT: the fake model counts 458 tokens a call, so a cap of 800 lets a
 * merchant's second call through (458 used) and answers its third turn offline (916 used).
 */
describe('daily model tokens per merchant (e2e)', () => {
  let radd: TestApp;
  let model: FakeOpenAi;
  let graph: FakeGraph;

  beforeAll(async () => {
    [model, graph] = await Promise.all([FakeOpenAi.start(), FakeGraph.start()]);
    radd = await startApp({
      GRAPH_API_BASE_URL: graph.url,
      OPENAI_API_KEY: 'sk-test-key',
      OPENAI_BASE_URL: model.baseUrl,
      AI_DEBOUNCE_MS: '0',
      AI_DAILY_TOKENS_PER_MERCHANT: '800',
    });
  });
  afterAll(async () => {
    await radd.close();
    await Promise.all([model.close(), graph.close()]);
  });

  async function newMerchant(): Promise<string> {
    const merchant = await createMerchant(radd.app);
    await setCredentials(radd.app, merchant.id, { instagramAccessToken: 'EAAGpagetoken00000' });
    return merchant.instagramAccountId;
  }

  async function answer(account: string, customer: string): Promise<Reply> {
    const body = textDm(account, customer, `${customer}-m`, 'عدكم قمصان؟');
    expect((await postSigned(radd.url, body)).status).toBe(200);
    return eventually(async () => {
      const [row] = await database(radd.app).query<Reply[]>(
        `SELECT m.text, m.meta FROM messages m
           JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
          WHERE cu.igsid = $1 AND m.sender = 'bot'`,
        [customer],
      );
      return row;
    });
  }

  it("answers a merchant's turns offline once its tokens of the day are used, and no other merchant's", async () => {
    const busy = await newMerchant();
    const sources: string[] = [];
    for (const customer of ['cap-1', 'cap-2', 'cap-3']) {
      sources.push((await answer(busy, customer)).meta.ai.source);
    }
    expect(sources).toEqual(['model', 'model', 'offline']);
    expect(model.calls).toHaveLength(2);
    const capped = await answer(busy, 'cap-4');
    expect(capped.meta.ai).toMatchObject({ source: 'offline', reason: 'daily token cap' });
    expect(capped.text.length).toBeGreaterThan(0);

    const other = await newMerchant();
    expect((await answer(other, 'cap-other')).meta.ai.source).toBe('model');
    expect(model.calls).toHaveLength(3);
  });
});

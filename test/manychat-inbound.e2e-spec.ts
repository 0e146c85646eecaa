import { randomBytes } from 'node:crypto';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { credentialContext } from 'src/merchant/merchant-directory';
import { QueueName } from 'src/queue/queue.constants';
import { startApp, type TestApp } from 'test/utils/app';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';

describe('ManyChat inbound webhook (e2e)', () => {
  let radd: TestApp;
  let merchant: { id: string; instagramAccountId: string };
  const secret = randomBytes(24).toString('base64url');

  beforeAll(async () => {
    radd = await startApp({ AI_DEBOUNCE_MS: '1000' });
    merchant = await createMerchant(radd.app, { deliveryChannel: 'manychat' });
    const sealed = radd.app
      .get(CredentialCipher)
      .encrypt(secret, credentialContext(merchant.id, 'inboundSecret'));
    await database(radd.app).query(`UPDATE merchants SET inbound_secret = $2 WHERE id = $1`, [
      merchant.id,
      sealed,
    ]);
  });
  afterAll(() => radd.close());

  const send = (body: unknown, key: string | null = secret, merchantId = merchant.id) =>
    fetch(`${radd.url}/webhooks/manychat/${merchantId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === null ? {} : { 'x-radd-secret': key }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const customerRows = () =>
    database(radd.app).query<
      Array<{
        igsid: string | null;
        manychat_subscriber_id: string | null;
        username: string | null;
      }>
    >(
      `SELECT igsid, manychat_subscriber_id, username FROM customers WHERE merchant_id = $1 ORDER BY created_at`,
      [merchant.id],
    );

  const messageTexts = async (): Promise<string[]> =>
    (
      await database(radd.app).query<Array<{ text: string }>>(
        `SELECT text FROM messages WHERE merchant_id = $1 ORDER BY occurred_at, created_at`,
        [merchant.id],
      )
    ).map((row) => row.text);

  it('refuses a wrong or missing secret, and an unknown or malformed merchant id, with 401', async () => {
    for (const res of [
      await send({ subscriber_id: '1', text: 'x' }, 'wrong'),
      await send({ subscriber_id: '1', text: 'x' }, null),
      await send({ subscriber_id: '1', text: 'x' }, secret, '00000000-0000-4000-8000-000000000000'),
      await send({ subscriber_id: '1', text: 'x' }, secret, 'not-a-uuid'),
      await send('{not json', 'wrong'),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
  });

  it('answers a correctly authenticated bad body 400, naming the field', async () => {
    const res = await send({ text: 'x' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('subscriber_id'),
    });
  });

  it('stores the text as the customer’s message, remembers the subscriber, queues one reply (202)', async () => {
    const res = await send({
      subscriber_id: 987654321012345,
      ig_username: 'ali.iq',
      text: 'عدكم قياس XL؟',
    });
    expect(res.status).toBe(202);
    await eventually(async () => ((await messageTexts()).length === 1 ? true : undefined));
    expect(await customerRows()).toEqual([
      { igsid: null, manychat_subscriber_id: '987654321012345', username: 'ali.iq' },
    ]);
    const jobs = await queue(radd.app, QueueName.AiResponse).getJobs(['delayed', 'waiting']);
    expect(jobs.map((job) => (job.data as { merchantId: string }).merchantId)).toEqual([
      merchant.id,
    ]);
  });

  it('ignores the same text from the same subscriber sent twice within seconds', async () => {
    expect((await send({ subscriber_id: '987654321012345', text: 'عدكم قياس XL؟' })).status).toBe(
      202,
    );
    const note = await eventually(async () => {
      const [row] = await database(radd.app).query<Array<{ note: string | null }>>(
        `SELECT note FROM inbound_events WHERE kind = 'manychat_message' AND status = 'ignored'`,
      );
      return row;
    });
    expect(note.note).toBe('the same ManyChat message again');
    expect(await messageTexts()).toEqual(['عدكم قياس XL؟']);
  });

  it('shares one conversation with the Instagram customer when ig_id is given', async () => {
    const igsid = '17841412345678901';
    expect(
      (await postSigned(radd.url, textDm(merchant.instagramAccountId, igsid, 'm-mc-1', 'هلو')))
        .status,
    ).toBe(200);
    await eventually(async () =>
      (await customerRows()).some((row) => row.igsid === igsid) ? true : undefined,
    );
    expect(
      (await send({ subscriber_id: '5550001', ig_id: igsid, text: 'بيش الجاكيت؟' })).status,
    ).toBe(202);
    const merged = await eventually(async () => {
      const rows = await customerRows();
      const row = rows.find((candidate) => candidate.igsid === igsid);
      return row?.manychat_subscriber_id ? rows : undefined;
    });
    expect(merged.filter((row) => row.igsid === igsid)).toEqual([
      { igsid, manychat_subscriber_id: '5550001', username: null },
    ]);
    const [conversations] = await database(radd.app).query<Array<{ count: string }>>(
      `SELECT count(DISTINCT m.conversation_id) FROM messages m JOIN conversations c ON c.id = m.conversation_id
         JOIN customers cu ON cu.id = c.customer_id WHERE cu.igsid = $1`,
      [igsid],
    );
    expect(conversations.count).toBe('1');
  });

  it('turns an address that keeps failing away with 429, but never a correct secret', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 101; i += 1) {
      statuses.push((await send({ subscriber_id: '1', text: 'x' }, 'guess')).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect((await send({ subscriber_id: '42', text: 'هلا' })).status).toBe(202);
  });

  it('takes the merchant id in capitals as the same merchant', async () => {
    const res = await send(
      { subscriber_id: '555000111', text: 'هلو' },
      secret,
      merchant.id.toUpperCase(),
    );
    expect(res.status).toBe(202);
    await eventually(async () =>
      (await customerRows()).some((row) => row.manychat_subscriber_id === '555000111')
        ? true
        : undefined,
    );
  });
});

import type { Job } from 'bullmq';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { credentialContext } from 'src/merchant/merchant-directory';
import { QueueName } from 'src/queue/queue.constants';
import { startApp, type TestApp } from 'test/utils/app';
import { FakeHttpServer } from 'test/utils/fake-http-server';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';

/** The sample payloads of meta-instagram spec §11, byte for byte (F9 and F11 with `object` added). */
const F1 = `{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"message":{"text":"Hello World","mid":"external_id"},"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970}],"time":1459991487970}]}`;
const F3 = `{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970,"message":{"is_echo":true,"mid":"qT7ywaK"}}]}]}`;
const F5 = `{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"sender":{"id":"5678"},"recipient":{"id":"1234567890"},"timestamp":1459991487970,"message":{"mid":"external_id","attachments":[{"type":"like_heart"}]}}],"time":1459991487970}]}`;
const F7 = `{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"postback":{"title":"icebreaker question","payload":"get_started"},"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970}],"time":1459991487970}]}`;
const F8 = `{"object":"instagram","entry":[{"id":"1234567890","messaging":[{"message":{"mid":"external_id","attachments":[{"type":"image","payload":{"url":"https://image-url/foo.png"}}]},"recipient":{"id":"1234567890"},"sender":{"id":"5678"},"timestamp":1459991487970}],"time":1459991487970}]}`;
const F9 = `{"object":"instagram","entry":[{"id":"instagram-message-id-123","time":"2021-09-08T06:34:04+0000","messaging":[{"sender":{"id":"Sender-id-1"},"recipient":{"id":"chatwoot-app-user-id-1"},"timestamp":"2021-09-08T06:34:04+0000","message":{"mid":"message-id-1","text":"This is the story reply","reply_to":{"story":{"id":"chatwoot-app-user-id-1","url":"https://chatwoot-assets.local/sample.png"}}}}]}]}`;
const F11 = `{"object":"instagram","entry":[{"id":"instagram-message-id-1234","time":"2021-09-08T06:34:04+0000","messaging":[{"sender":{"id":"Sender-id-1"},"recipient":{"id":"chatwoot-app-user-id-1"},"timestamp":"2021-09-08T06:34:04+0000","message":{"mid":"message-id-1","attachments":[{"type":"ig_reel","payload":{"reel_video_id":"1234","title":"Reel title","url":"https://www.example.com/test.jpeg"}}]}}]}]}`;
const F16 = `{"object":"instagram","entry":[{"id":"0","time":1785108996,"changes":[{"field":"comments","value":{"id":"17865799348089039","text":"This is an example.","from":{"id":"232323232","username":"test","self_ig_scoped_id":"232323232"},"media":{"id":"123123123","media_product_type":"FEED"},"parent_id":"1231231234"}}]}]}`;

interface MessageRow {
  direction: string;
  sender: string;
  type: string;
  text: string | null;
  attachments: Array<Record<string, unknown>>;
  mid: string | null;
  meta: Record<string, unknown>;
  deleted: boolean;
  delivery_status: string | null;
  occurred_at: Date;
  conversation_id: string;
}

describe('Instagram webhook: processing (e2e)', () => {
  let radd: TestApp;
  let graph: FakeHttpServer;
  let sample: { id: string; instagramAccountId: string };

  beforeAll(async () => {
    graph = await FakeHttpServer.start();
    radd = await startApp({
      AI_DEBOUNCE_MS: '1500',
      GRAPH_API_BASE_URL: graph.url,
      INSTAGRAM_API_BASE_URL: graph.url,
    });
    sample = await createMerchant(radd.app, { instagramAccountId: '1234567890' });
    await createMerchant(radd.app, { instagramAccountId: 'instagram-message-id-123' });
    await createMerchant(radd.app, { instagramAccountId: 'instagram-message-id-1234' });
  });
  afterAll(async () => {
    await radd.close();
    await graph.close();
  });

  const db = () => database(radd.app);

  /** Sends a signed body and waits until the worker has processed it. */
  async function deliver(body: string): Promise<void> {
    const res = await postSigned(radd.url, body);
    expect(res.status).toBe(200);
    await eventually(
      async () => {
        const [row] = await db().query<Array<{ status: string }>>(
          `SELECT status FROM webhook_events WHERE raw_body = $1 ORDER BY received_at DESC LIMIT 1`,
          [Buffer.from(body)],
        );
        return row?.status === 'processed' ? true : undefined;
      },
      10_000,
      'the webhook to be processed',
    );
  }

  async function messagesOf(merchantId: string): Promise<MessageRow[]> {
    return db().query<MessageRow[]>(
      `SELECT direction, sender, type, text, attachments, mid, meta, deleted, delivery_status, occurred_at, conversation_id
         FROM messages WHERE merchant_id = $1 ORDER BY occurred_at, created_at`,
      [merchantId],
    );
  }

  async function pendingReplies(conversationId?: string): Promise<Job[]> {
    const jobs = await queue(radd.app, QueueName.AiResponse).getJobs([
      'delayed',
      'waiting',
      'active',
    ]);
    return jobs.filter(
      (job) =>
        conversationId === undefined ||
        (job.data as { conversationId: string }).conversationId === conversationId,
    );
  }

  async function resetSampleAccount(): Promise<void> {
    await db().query(
      `DELETE FROM inbound_events WHERE account_id LIKE '1234567890' OR account_id LIKE 'instagram-message-id-%'`,
    );
    await db().query(
      `DELETE FROM customers WHERE merchant_id IN (SELECT id FROM merchants WHERE instagram_account_id IN ('1234567890', 'instagram-message-id-123', 'instagram-message-id-1234'))`,
    );
    await queue(radd.app, QueueName.AiResponse).obliterate({ force: true });
  }

  describe('the sample payloads of spec §11', () => {
    beforeEach(resetSampleAccount);

    it('F1 text DM: customer, conversation and message stored; one reply queued', async () => {
      await deliver(F1);
      const [message] = await messagesOf(sample.id);
      expect(message).toMatchObject({
        direction: 'in',
        sender: 'customer',
        type: 'text',
        text: 'Hello World',
        mid: 'external_id',
        deleted: false,
      });
      expect(message.occurred_at.getTime()).toBe(1459991487970);
      const [conversation] = await db().query<
        Array<{ id: string; igsid: string; last_customer_message_at: Date; status: string }>
      >(
        `SELECT c.id, cu.igsid, c.last_customer_message_at, c.status FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.merchant_id = $1`,
        [sample.id],
      );
      expect(conversation).toMatchObject({ igsid: '5678', status: 'open' });
      expect(conversation.last_customer_message_at.getTime()).toBe(1459991487970);
      const replies = await pendingReplies(conversation.id);
      expect(replies.map((job): unknown => job.data)).toEqual([
        { merchantId: sample.id, conversationId: conversation.id },
      ]);
    });

    it('F3 echo not sent by Radd: stored as a person’s message, the bot pauses, nothing is answered', async () => {
      await deliver(F3);
      const [message] = await messagesOf(sample.id);
      expect(message).toMatchObject({
        direction: 'out',
        sender: 'human',
        mid: 'qT7ywaK',
        delivery_status: 'delivered',
      });
      const [conversation] = await db().query<Array<{ bot_paused_until: Date }>>(
        `SELECT bot_paused_until FROM conversations WHERE id = $1`,
        [message.conversation_id],
      );
      expect(conversation.bot_paused_until.getTime()).toBeGreaterThan(Date.now() + 59 * 60_000);
      expect(await pendingReplies()).toHaveLength(0);
    });

    it('F5 heart sticker: stored as like_heart, never answered', async () => {
      await deliver(F5);
      const [message] = await messagesOf(sample.id);
      expect(message).toMatchObject({
        type: 'like_heart',
        attachments: [{ type: 'like_heart' }],
        text: null,
      });
      expect(await pendingReplies()).toHaveLength(0);
    });

    it('F7 icebreaker postback: stored with its payload and answered', async () => {
      await deliver(F7);
      const [message] = await messagesOf(sample.id);
      expect(message).toMatchObject({
        type: 'postback',
        text: 'icebreaker question',
        meta: { payload: 'get_started' },
      });
      expect(await pendingReplies(message.conversation_id)).toHaveLength(1);
    });

    it('F8 image: stored with its CDN URL and answered', async () => {
      await deliver(F8);
      const [message] = await messagesOf(sample.id);
      expect(message).toMatchObject({
        type: 'image',
        attachments: [{ type: 'image', url: 'https://image-url/foo.png' }],
      });
      expect(await pendingReplies(message.conversation_id)).toHaveLength(1);
    });

    it('F9 story reply: text with the story it answers', async () => {
      await deliver(F9);
      const [merchant] = await db().query<Array<{ id: string }>>(
        `SELECT id FROM merchants WHERE instagram_account_id = 'instagram-message-id-123'`,
      );
      const [message] = await messagesOf(merchant.id);
      expect(message).toMatchObject({
        type: 'text',
        text: 'This is the story reply',
        meta: {
          replyTo: {
            story: {
              id: 'chatwoot-app-user-id-1',
              url: 'https://chatwoot-assets.local/sample.png',
            },
          },
        },
      });
      expect(message.occurred_at.toISOString()).toBe('2021-09-08T06:34:04.000Z');
    });

    it('F11 shared reel: the reel with its id, title and URL', async () => {
      await deliver(F11);
      const [merchant] = await db().query<Array<{ id: string }>>(
        `SELECT id FROM merchants WHERE instagram_account_id = 'instagram-message-id-1234'`,
      );
      const [message] = await messagesOf(merchant.id);
      expect(message).toMatchObject({
        type: 'ig_reel',
        attachments: [
          {
            type: 'ig_reel',
            mediaId: '1234',
            title: 'Reel title',
            url: 'https://www.example.com/test.jpeg',
          },
        ],
      });
    });

    it('F16 dashboard test comment (entry id "0"): stored unrouted, no error', async () => {
      await deliver(F16);
      const rows = await db().query<
        Array<{ status: string; kind: string; merchant_id: string | null }>
      >(
        `SELECT status, kind, merchant_id FROM inbound_events WHERE account_id = '0' AND event_key = '17865799348089039'`,
      );
      expect(rows).toEqual([{ status: 'unrouted', kind: 'comment', merchant_id: null }]);
    });
  });

  describe('every kind of event', () => {
    let merchant: { id: string; instagramAccountId: string };
    let account: string;
    const envelope = (items: unknown[], field: 'messaging' | 'standby' = 'messaging') =>
      JSON.stringify({
        object: 'instagram',
        entry: [{ id: account, time: Date.now(), [field]: items }],
      });
    const fromCustomer = (customer: string, timestamp: number, rest: Record<string, unknown>) => ({
      sender: { id: customer },
      recipient: { id: account },
      timestamp,
      ...rest,
    });

    beforeEach(async () => {
      merchant = await createMerchant(radd.app);
      account = merchant.instagramAccountId;
    });

    it('an unsent message is marked deleted, and the reply pending only for it is cancelled', async () => {
      const now = Date.now();
      await deliver(
        envelope([fromCustomer('c-del', now, { message: { mid: 'm-del', text: 'اريد اشتري' } })]),
      );
      const [message] = await messagesOf(merchant.id);
      expect(await pendingReplies(message.conversation_id)).toHaveLength(1);
      await deliver(
        envelope([
          fromCustomer('c-del', now + 1000, { message: { mid: 'm-del', is_deleted: true } }),
        ]),
      );
      expect((await messagesOf(merchant.id))[0]).toMatchObject({
        mid: 'm-del',
        deleted: true,
        text: 'اريد اشتري',
      });
      expect(await pendingReplies(message.conversation_id)).toHaveLength(0);
    });

    /**
     * A customer's message coming after what amends it: alone in its POST (the store of many
     * messages in one statement) or with another event (event by event). Answers its stored row.
     */
    const STORE_PATHS = [
      ['alone in its POST', false],
      ['with another event in its POST', true],
    ] as const;
    async function messageComingLast(
      customer: string,
      mid: string,
      text: string,
      now: number,
      withOther: boolean,
    ): Promise<MessageRow> {
      const other = fromCustomer(customer, now + 500, {
        reaction: { mid: 'm-elsewhere', action: 'react', reaction: 'love', emoji: '❤️' },
      });
      await deliver(
        envelope([
          fromCustomer(customer, now, { message: { mid, text } }),
          ...(withOther ? [other] : []),
        ]),
      );
      const [message] = (await messagesOf(merchant.id)).filter((row) => row.mid === mid);
      return message;
    }

    it.each(STORE_PATHS)(
      'a message whose deletion came first, in an earlier POST, is stored deleted and not answered (%s)',
      async (_, withOther) => {
        const now = Date.now();
        const customer = `c-unsent-${withOther ? 'mixed' : 'alone'}`;
        const mid = `m-unsent-${withOther ? 'mixed' : 'alone'}`;
        await deliver(
          envelope([fromCustomer(customer, now + 1000, { message: { mid, is_deleted: true } })]),
        );
        const message = await messageComingLast(customer, mid, 'اريد اشتري', now, withOther);
        expect(message).toMatchObject({ mid, deleted: true, text: 'اريد اشتري' });
        expect(await pendingReplies(message.conversation_id)).toHaveLength(0);
        const [conversation] = await db().query<Array<{ reply_owed_at: Date | null }>>(
          `SELECT reply_owed_at FROM conversations WHERE id = $1`,
          [message.conversation_id],
        );
        expect(conversation.reply_owed_at).toBeNull();
      },
    );

    it.each(STORE_PATHS)(
      'a message whose edits came first, in earlier POSTs, is stored as last edited (%s)',
      async (_, withOther) => {
        const now = Date.now();
        const customer = `c-early-edit-${withOther ? 'mixed' : 'alone'}`;
        const mid = `m-early-edit-${withOther ? 'mixed' : 'alone'}`;
        const edit = (text: string, count: number, at: number) =>
          envelope([
            fromCustomer(customer, at, {
              message_edit: { mid, text, num_edit: String(count) },
            }),
          ]);
        // The second edit first, then the first: the later one stays.
        await deliver(edit('بيش القميص الابيض؟', 2, now + 2000));
        await deliver(edit('بيش القميص؟', 1, now + 1000));
        const message = await messageComingLast(customer, mid, 'بيش', now, withOther);
        expect(message).toMatchObject({ text: 'بيش القميص الابيض؟', deleted: false });
        expect(message.meta).toMatchObject({ editCount: 2 });
        // Still a question to answer.
        expect(await pendingReplies(message.conversation_id)).toHaveLength(1);
      },
    );

    it('events of one POST apply in timestamp order, whatever their order in the body', async () => {
      const now = Date.now();
      await deliver(
        envelope([
          fromCustomer('c-order', now + 2000, { message: { mid: 'm-order', is_deleted: true } }),
          fromCustomer('c-order', now, { message: { mid: 'm-order', text: 'first' } }),
        ]),
      );
      expect((await messagesOf(merchant.id))[0]).toMatchObject({ mid: 'm-order', deleted: true });
    });

    it('an edit updates the text; a reaction is recorded on its message and never answered', async () => {
      const now = Date.now();
      await deliver(
        envelope([fromCustomer('c-edit', now, { message: { mid: 'm-edit', text: 'بيش' } })]),
      );
      await queue(radd.app, QueueName.AiResponse).obliterate({ force: true });
      await deliver(
        envelope([
          fromCustomer('c-edit', now + 1000, {
            message_edit: { mid: 'm-edit', text: 'بيش القميص؟', num_edit: '2' },
          }),
          fromCustomer('c-edit', now + 2000, {
            reaction: { mid: 'm-edit', action: 'react', reaction: 'love', emoji: '❤️' },
          }),
        ]),
      );
      // An earlier edit that comes late does not undo the later one.
      await deliver(
        envelope([
          fromCustomer('c-edit', now + 500, {
            message_edit: { mid: 'm-edit', text: 'بيش ال', num_edit: '1' },
          }),
        ]),
      );
      const [message] = await messagesOf(merchant.id);
      expect(message.text).toBe('بيش القميص؟');
      expect(message.meta).toMatchObject({
        editCount: 2,
        reactions: [{ action: 'react', reaction: 'love', emoji: '❤️', by: 'customer' }],
      });
      expect(await pendingReplies()).toHaveLength(0);
    });

    it('a reaction opens the 24-hour window again; taking it back does not', async () => {
      const now = Date.now() - 60_000;
      await deliver(
        envelope([fromCustomer('c-react', now, { message: { mid: 'm-react', text: 'هلو' } })]),
      );
      await queue(radd.app, QueueName.AiResponse).obliterate({ force: true });
      const windowOpenedAt = async () => {
        const [row] = await db().query<Array<{ at: Date }>>(
          `SELECT c.last_customer_message_at AS at FROM conversations c
             JOIN customers cu ON cu.id = c.customer_id WHERE cu.igsid = 'c-react'`,
        );
        return row.at.getTime();
      };
      await deliver(
        envelope([
          fromCustomer('c-react', now + 1000, {
            reaction: { mid: 'm-react', action: 'react', reaction: 'love', emoji: '❤️' },
          }),
        ]),
      );
      expect(await windowOpenedAt()).toBe(now + 1000);
      await deliver(
        envelope([
          fromCustomer('c-react', now + 2000, { reaction: { mid: 'm-react', action: 'unreact' } }),
        ]),
      );
      expect(await windowOpenedAt()).toBe(now + 1000);
      const [message] = await messagesOf(merchant.id).then((rows) =>
        rows.filter((row) => row.mid === 'm-react'),
      );
      expect(message.meta).toMatchObject({
        reactions: [{ action: 'react' }, { action: 'unreact', by: 'customer' }],
      });
    });

    it('an echo of Radd’s own send marks it delivered (by message id, else by text) and pauses nothing; a seen event marks it read', async () => {
      const now = Date.now();
      await deliver(
        envelope([fromCustomer('c-echo', now, { message: { mid: 'm-q', text: 'شلون اطلب؟' } })]),
      );
      const [question] = await messagesOf(merchant.id);
      await db().query(
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, provider_message_id, delivery_status, channel, occurred_at)
         VALUES ($1, $2, 'out', 'bot', 'text', 'ابعثلنا اسمك وعنوانك', 'prov-1', 'sent', 'instagram', now()),
                ($1, $2, 'out', 'bot', 'text', 'التوصيل ٥ آلاف', NULL, 'sent', 'manychat', now())`,
        [merchant.id, question.conversation_id],
      );
      const business = (
        recipient: string,
        timestamp: number,
        message: Record<string, unknown>,
      ) => ({
        sender: { id: account },
        recipient: { id: recipient },
        timestamp,
        message: { is_echo: true, ...message },
      });
      await deliver(
        envelope([
          business('c-echo', now + 1000, { mid: 'prov-1', text: 'ابعثلنا اسمك وعنوانك' }),
          business('c-echo', now + 1100, { mid: 'echo-2', text: 'التوصيل ٥ آلاف' }),
        ]),
      );
      const out = (await messagesOf(merchant.id)).filter((row) => row.direction === 'out');
      expect(out.map((row) => [row.sender, row.mid, row.delivery_status])).toEqual([
        ['bot', 'prov-1', 'delivered'],
        ['bot', 'echo-2', 'delivered'],
      ]);
      const [conversation] = await db().query<Array<{ bot_paused_until: Date | null }>>(
        `SELECT bot_paused_until FROM conversations WHERE id = $1`,
        [question.conversation_id],
      );
      expect(conversation.bot_paused_until).toBeNull();

      await deliver(
        envelope([fromCustomer('c-echo', Date.now() + 5000, { read: { mid: 'echo-2' } })]),
      );
      const read = (await messagesOf(merchant.id)).filter((row) => row.direction === 'out');
      expect(read.map((row) => row.delivery_status)).toEqual(['read', 'read']);
    });

    it('standby messages are stored, and answered only for ManyChat merchants', async () => {
      await deliver(
        envelope(
          [fromCustomer('c-sb', Date.now(), { message: { mid: 'm-sb', text: 'متوفر؟' } })],
          'standby',
        ),
      );
      const [stored] = await messagesOf(merchant.id);
      expect(stored).toMatchObject({ text: 'متوفر؟', meta: { standby: true } });
      expect(await pendingReplies(stored.conversation_id)).toHaveLength(0);

      const manychat = await createMerchant(radd.app, { deliveryChannel: 'manychat' });
      account = manychat.instagramAccountId;
      await deliver(
        envelope(
          [fromCustomer('c-sb', Date.now(), { message: { mid: 'm-sb2', text: 'متوفر؟' } })],
          'standby',
        ),
      );
      const [answered] = await messagesOf(manychat.id);
      expect(await pendingReplies(answered.conversation_id)).toHaveLength(1);
    });

    it('a customer comment is stored and answered; the merchant’s own comment is not', async () => {
      const comment = (id: string, from: Record<string, string>, text: string) =>
        JSON.stringify({
          object: 'instagram',
          entry: [
            {
              id: account,
              time: Math.floor(Date.now() / 1000),
              changes: [
                {
                  field: 'comments',
                  value: { id, text, from, media: { id: 'media-1', media_product_type: 'REELS' } },
                },
              ],
            },
          ],
        });
      await deliver(comment('cm-1', { id: 'igsid-commenter', username: 'zahraa' }, 'بكم هذا؟'));
      await deliver(comment('cm-2', { id: account, username: 'shop' }, 'تم الرد بالخاص'));
      const messages = await messagesOf(merchant.id);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        type: 'comment',
        text: 'بكم هذا؟',
        meta: { commentId: 'cm-1', media: { id: 'media-1', productType: 'REELS' } },
      });
      expect(await pendingReplies(messages[0].conversation_id)).toHaveLength(1);
      const [own] = await db().query<Array<{ status: string; note: string }>>(
        `SELECT status, note FROM inbound_events WHERE event_key = 'cm-2'`,
      );
      expect(own.status).toBe('ignored');
    });

    it('an unknown event type is stored raw and skipped', async () => {
      await deliver(
        envelope([fromCustomer('c-x', Date.now(), { messaging_optins: { payload: 'x' } })]),
      );
      const rows = await db().query<
        Array<{ kind: string; status: string; payload: Record<string, unknown> }>
      >(`SELECT kind, status, payload FROM inbound_events WHERE account_id = $1`, [account]);
      expect(rows).toEqual([
        {
          kind: 'unknown',
          status: 'ignored',
          payload: expect.objectContaining({ messaging_optins: { payload: 'x' } }),
        },
      ]);
      expect(await messagesOf(merchant.id)).toHaveLength(0);
    });

    it('messages of one burst are answered by one reply', async () => {
      const now = Date.now();
      for (let i = 0; i < 3; i += 1) {
        await deliver(
          envelope([
            fromCustomer('c-burst', now + i, {
              message: { mid: `m-burst-${i}`, text: `سؤال ${i}` },
            }),
          ]),
        );
      }
      const messages = await messagesOf(merchant.id);
      expect(messages).toHaveLength(3);
      expect(await pendingReplies(messages[0].conversation_id)).toHaveLength(1);
    });
  });

  describe('exactly once', () => {
    it('the same POST twice, and the same mid twice in one POST, give one message', async () => {
      const merchant = await createMerchant(radd.app);
      const body = textDm(merchant.instagramAccountId, 'c-dup', 'm-dup', 'مرحبا');
      await deliver(body);
      await deliver(body.replace('"entry":[', '"entry":[ ')); // a redelivery (new bytes, same event)
      const twice = JSON.parse(textDm(merchant.instagramAccountId, 'c-dup', 'm-dup-2', 'هلا')) as {
        entry: Array<{ messaging: unknown[] }>;
      };
      twice.entry[0].messaging.push(twice.entry[0].messaging[0]);
      await deliver(JSON.stringify(twice));
      const messages = await messagesOf(merchant.id);
      expect(messages.map((message) => message.mid).sort()).toEqual(['m-dup', 'm-dup-2']);
    });

    it('20 concurrent first messages of a new customer give one customer and one conversation', async () => {
      const merchant = await createMerchant(radd.app);
      const now = Date.now();
      const bodies = Array.from({ length: 20 }, (_, i) =>
        textDm(merchant.instagramAccountId, 'c-race', `m-race-${i}`, `رسالة ${i}`, now + i),
      );
      await Promise.all(bodies.map((body) => deliver(body)));
      const [counts] = await db().query<
        Array<{ customers: string; conversations: string; messages: string }>
      >(
        `SELECT (SELECT count(*) FROM customers WHERE merchant_id = $1) AS customers,
                (SELECT count(*) FROM conversations WHERE merchant_id = $1) AS conversations,
                (SELECT count(*) FROM messages WHERE merchant_id = $1) AS messages`,
        [merchant.id],
      );
      expect(counts).toEqual({ customers: '1', conversations: '1', messages: '20' });
    });
  });

  describe('customer profiles', () => {
    async function merchantWithToken(
      token: string,
    ): Promise<{ id: string; instagramAccountId: string }> {
      const merchant = await createMerchant(radd.app);
      const sealed = radd.app
        .get(CredentialCipher)
        .encrypt(token, credentialContext(merchant.id, 'instagramAccessToken'));
      await db().query(`UPDATE merchants SET instagram_access_token = $2 WHERE id = $1`, [
        merchant.id,
        sealed,
      ]);
      return merchant;
    }

    afterEach(() => graph.reset());

    it('are fetched after the first message, with the merchant’s token on the host that fits it', async () => {
      graph.on('GET', '/v25.0/c-profile', {
        body: {
          name: 'Zahraa Ali',
          username: 'zahraa.ali',
          profile_pic: 'https://cdn.example/p.jpg',
          id: 'c-profile',
        },
      });
      const merchant = await merchantWithToken('IGAAprofiletoken');
      await deliver(textDm(merchant.instagramAccountId, 'c-profile', 'm-profile', 'السلام عليكم'));
      const customer = await eventually(async () => {
        const [row] = await db().query<
          Array<{ name: string | null; username: string | null; profile_pic_url: string | null }>
        >(`SELECT name, username, profile_pic_url FROM customers WHERE merchant_id = $1`, [
          merchant.id,
        ]);
        return row?.name ? row : undefined;
      });
      expect(customer).toEqual({
        name: 'Zahraa Ali',
        username: 'zahraa.ali',
        profile_pic_url: 'https://cdn.example/p.jpg',
      });
      const [request] = graph.received('GET', '/v25.0/c-profile');
      expect(request.headers.authorization).toBe('Bearer IGAAprofiletoken');
      expect(request.query.get('fields')).toBe('name,username,profile_pic');
    });

    it('ignore a missing consent (230) and flag the merchant when the token is refused (190)', async () => {
      graph.on('GET', '/v25.0/c-230', {
        status: 400,
        body: {
          error: {
            message: 'User consent is required to access user profile',
            type: 'OAuthException',
            code: 230,
          },
        },
      });
      graph.on('GET', '/v25.0/c-190', {
        status: 400,
        body: {
          error: {
            message: 'Invalid OAuth access token.',
            type: 'OAuthException',
            code: 190,
            fbtrace_id: 'x',
          },
        },
      });
      const consent = await merchantWithToken('EAApagetoken');
      const revoked = await merchantWithToken('EAArevoked');
      await deliver(textDm(consent.instagramAccountId, 'c-230', 'm-230', 'هلو'));
      await deliver(textDm(revoked.instagramAccountId, 'c-190', 'm-190', 'هلو'));
      await eventually(async () => {
        const [row] = await db().query<Array<{ needs_reauth: boolean }>>(
          `SELECT needs_reauth FROM merchants WHERE id = $1`,
          [revoked.id],
        );
        return row.needs_reauth ? true : undefined;
      });
      const [fine] = await db().query<Array<{ needs_reauth: boolean }>>(
        `SELECT needs_reauth FROM merchants WHERE id = $1`,
        [consent.id],
      );
      expect(fine.needs_reauth).toBe(false);
      expect(await messagesOf(consent.id)).toHaveLength(1);
    });
  });
});

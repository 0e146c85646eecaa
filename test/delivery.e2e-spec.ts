import { randomBytes } from 'node:crypto';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import { SendRateLimiter } from 'src/delivery/send-rate.limiter';
import { startApp, TEST_SECRETS, type TestApp } from 'test/utils/app';
import { adminToken, call, merchantToken } from 'test/utils/api';
import {
  createConversation,
  deliveryState,
  queueReply,
  setCredentials,
  tuneDelivery,
  type DeliveryState,
} from 'test/utils/delivery';
import { FakeGraph, graphError, type GraphSend } from 'test/utils/fake-graph';
import { FakeManyChat, manyChatError, manyChatKey } from 'test/utils/fake-manychat';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';
import { QueueName } from 'src/queue/queue.constants';

const PAGE_TOKEN = 'EAAGpagetoken0000000000000000';
const IG_LOGIN_TOKEN = 'IGQVJinstagramlogintoken00000';
const MERCHANT_KEY = manyChatKey('1111111');
const GLOBAL_KEY = manyChatKey('2222222');
const HOUR = 3_600_000;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Meta's echo of a text the account sent. */
function echoOf(
  account: string,
  customer: string | null,
  mid: string,
  text: string,
  now = Date.now(),
): string {
  return JSON.stringify({
    object: 'instagram',
    entry: [
      {
        id: account,
        time: now,
        messaging: [
          {
            sender: { id: account },
            recipient: { id: customer },
            timestamp: now,
            message: { mid, is_echo: true, text },
          },
        ],
      },
    ],
  });
}

/** 2,500 bytes (give or take a word) of Arabic with emoji, words of varied length. */
function longArabicReply(): string {
  const words = (
    'هلا بيك عيني 🌷 الفستان الأسود متوفر بكل القياسات وسعره خمسة واربعين الف دينار، ' +
    'والتوصيل لبغداد خمسة آلاف ولباقي المحافظات ثمانية آلاف، والاستبدال خلال ثلاث أيام.'
  ).split(' ');
  let text = words[0];
  for (let i = 1; bytes(`${text} ${words[i % words.length]}`) <= 2_500; i += 1) {
    text += ` ${words[i % words.length]}`;
  }
  return text;
}

describe('Delivery (e2e)', () => {
  let radd: TestApp;
  let facebook: FakeGraph;
  let instagram: FakeGraph;
  let manychat: FakeManyChat;

  beforeAll(async () => {
    [facebook, instagram, manychat] = await Promise.all([
      FakeGraph.start(),
      FakeGraph.start(),
      FakeManyChat.start(),
    ]);
    radd = await startApp({
      AI_DEBOUNCE_MS: '200',
      GRAPH_API_BASE_URL: facebook.url,
      INSTAGRAM_API_BASE_URL: instagram.url,
      MANYCHAT_BASE_URL: manychat.url,
      MANYCHAT_API_KEY: GLOBAL_KEY,
    });
    tuneDelivery(radd.app, {
      reconcileWaitMs: 1_500,
      reconcilePollMs: 200,
      reauthRecheckMs: 500,
      sendTimeoutMs: 800,
    });
  });
  afterAll(async () => {
    await radd.close();
    await Promise.all([facebook.close(), instagram.close(), manychat.close()]);
  });
  beforeEach(() => {
    facebook.reset();
    instagram.reset();
    manychat.reset();
  });

  const db = () => database(radd.app);

  async function instagramMerchant(token = PAGE_TOKEN) {
    const merchant = await createMerchant(radd.app, { deliveryChannel: 'instagram' });
    await setCredentials(radd.app, merchant.id, { instagramAccessToken: token });
    return merchant;
  }

  async function manychatMerchant(
    credentials: Parameters<typeof setCredentials>[2] = { manychatApiKey: MERCHANT_KEY },
  ) {
    const merchant = await createMerchant(radd.app, { deliveryChannel: 'manychat' });
    await setCredentials(radd.app, merchant.id, credentials);
    return merchant;
  }

  /** Waits until the message's delivery reaches one of `statuses`. */
  function settled(messageId: string, statuses = ['sent', 'delivered', 'failed', 'read']) {
    return eventually(
      async () => {
        const state = await deliveryState(radd.app, messageId);
        return statuses.includes(state.delivery_status ?? '') ? state : undefined;
      },
      15_000,
      `message ${messageId} to be ${statuses.join('/')}`,
    );
  }

  async function botReplies(merchantId: string): Promise<Array<{ id: string; text: string }>> {
    return db().query(
      `SELECT id, text FROM messages WHERE merchant_id = $1 AND direction = 'out' AND sender = 'bot' ORDER BY created_at`,
      [merchantId],
    );
  }

  describe('senders', () => {
    it('a DM for an Instagram merchant with a Page token: typing_on, then one Send API call on the Graph host; the echo makes it delivered', async () => {
      const merchant = await instagramMerchant(PAGE_TOKEN);
      facebook.echoTo(
        `${radd.url}/webhooks/instagram`,
        merchant.instagramAccountId,
        TEST_SECRETS.META_APP_SECRET,
      );
      const customer = `c-${randomBytes(4).toString('hex')}`;
      expect(
        (
          await postSigned(
            radd.url,
            textDm(merchant.instagramAccountId, customer, `${customer}-1`, 'هلو'),
          )
        ).status,
      ).toBe(200);
      const [send] = await facebook.waitForMessages(1);
      const [reply] = await eventually(async () => {
        const rows = await botReplies(merchant.id);
        return rows.length > 0 ? rows : undefined;
      });
      expect(facebook.calls.map((call) => call.senderAction ?? 'message')).toEqual([
        'typing_on',
        'message',
      ]);
      expect(send.request.path).toBe('/v25.0/me/messages');
      expect(send.token).toBe(PAGE_TOKEN);
      expect(send.request.json).toEqual({
        recipient: { id: customer },
        messaging_type: 'RESPONSE',
        message: { text: reply.text },
      });
      expect(instagram.calls).toHaveLength(0);
      expect(manychat.sends).toHaveLength(0);

      const state = await settled(reply.id, ['delivered']);
      expect(state).toMatchObject({
        channel: 'instagram',
        provider_message_id: send.messageId,
        mid: send.messageId,
        parts: [{ status: 'delivered', mid: send.messageId, attempts: 1 }],
      });
      // The echo was recognised as Radd's own: the bot is not paused.
      const [conversation] = await db().query<Array<{ bot_paused_until: Date | null }>>(
        `SELECT c.bot_paused_until FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE cu.igsid = $1`,
        [customer],
      );
      expect(conversation.bot_paused_until).toBeNull();
      await pause(300);
      expect(facebook.messages).toHaveLength(1);
    });

    it('an Instagram-Login token goes to the Instagram host', async () => {
      const merchant = await instagramMerchant(IG_LOGIN_TOKEN);
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'هلا بيك' });
      await settled(id);
      expect(instagram.messages.map((send) => [send.token, send.recipientId, send.text])).toEqual([
        [IG_LOGIN_TOKEN, igsid, 'هلا بيك'],
      ]);
      expect(facebook.calls).toHaveLength(0);
    });

    it('a DM through the ManyChat webhook ends in exactly one sendContent with the merchant’s key and the subscriber id', async () => {
      const secret = randomBytes(16).toString('hex');
      const merchant = await manychatMerchant({
        manychatApiKey: MERCHANT_KEY,
        inboundSecret: secret,
      });
      const subscriber = '9007199254740993'; // above 2^53: must travel exactly
      const res = await fetch(`${radd.url}/webhooks/manychat/${merchant.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-radd-secret': secret },
        body: JSON.stringify({ subscriber_id: subscriber, text: 'هلو' }),
      });
      expect(res.status).toBe(202);
      const [send] = await manychat.waitForSends(1);
      const [reply] = await botReplies(merchant.id);
      expect(send.key).toBe(MERCHANT_KEY);
      expect(send.subscriberId).toBe(subscriber);
      expect(send.subscriberIdIsInteger).toBe(true);
      expect(send.request.rawBody.toString()).toContain(`"subscriber_id":${subscriber},`);
      const body = send.request.json as Record<string, unknown>;
      expect(body.message_tag).toBeUndefined();
      expect(body.data).toEqual({
        version: 'v2',
        content: {
          type: 'instagram',
          messages: [{ type: 'text', text: reply.text }],
          actions: [],
          quick_replies: [],
        },
      });
      expect(send.accepted).toBe(true);
      expect(await settled(reply.id)).toMatchObject({
        delivery_status: 'sent',
        channel: 'manychat',
        parts: [{ status: 'sent', attempts: 1 }],
      });
      await pause(300);
      expect(manychat.sends).toHaveLength(1);
      expect(facebook.calls).toHaveLength(0);
      const metrics = await (await fetch(`${radd.url}/metrics`)).text();
      expect(metrics).toMatch(
        /radd_deliveries_total\{channel="manychat",outcome="sent",code=""\} [1-9]/,
      );
    });

    it('a reply waiting for its send slot keeps its parts pending until the slot is its own', async () => {
      const secret = randomBytes(16).toString('hex');
      const merchant = await manychatMerchant({
        manychatApiKey: MERCHANT_KEY,
        inboundSecret: secret,
      });
      // Held back for a moment (as when Meta asks to wait): the reply waits for its slot inline.
      await radd.app.get(SendRateLimiter).pause(merchant.id, 1_500);
      const res = await fetch(`${radd.url}/webhooks/manychat/${merchant.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-radd-secret': secret },
        body: JSON.stringify({ subscriber_id: '5550001', text: 'هلو' }),
      });
      expect(res.status).toBe(202);
      const waiting = await eventually(async () => {
        const [reply] = await botReplies(merchant.id);
        const state = reply ? await deliveryState(radd.app, reply.id) : undefined;
        return state && state.parts.length > 0 ? { reply, state } : undefined;
      });
      // Read before any send: a worker dying now would leave nothing of unknown outcome.
      expect(manychat.sends).toHaveLength(0);
      expect(waiting.state).toMatchObject({
        channel: 'manychat',
        parts: [{ status: 'pending', attempts: 0 }],
      });
      await manychat.waitForSends(1);
      expect(await settled(waiting.reply.id)).toMatchObject({
        delivery_status: 'sent',
        parts: [{ status: 'sent', attempts: 1 }],
      });
    });

    it('finds the subscriber of an Instagram DM by the custom field holding the IGSID, remembers it, and uses MANYCHAT_API_KEY when the merchant has no key', async () => {
      const merchant = await manychatMerchant({ manychatSubscriberField: 'cf_igsid' });
      const { conversationId, igsid, customerId } = await createConversation(radd.app, merchant.id);
      manychat.addSubscriber({
        id: '4410001',
        igId: igsid ?? '',
        fields: { cf_igsid: igsid ?? '' },
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'اهلا' });
      await settled(id);
      expect(manychat.sends.map((send) => [send.key, send.subscriberId])).toEqual([
        [GLOBAL_KEY, '4410001'],
      ]);
      expect(
        manychat.server.received('GET', '/fb/subscriber/findByCustomField')[0].query.toString(),
      ).toBe(`field_id=cf_igsid&field_value=${igsid}`);
      const [customer] = await db().query<Array<{ manychat_subscriber_id: string }>>(
        `SELECT manychat_subscriber_id FROM customers WHERE id = $1`,
        [customerId],
      );
      expect(customer.manychat_subscriber_id).toBe('4410001');
    });

    it('says why a reply waits while the subscriber lookup fails, and sends it once the lookup answers', async () => {
      const merchant = await manychatMerchant({ manychatSubscriberField: 'cf_igsid' });
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      manychat.addSubscriber({ id: '4410002', fields: { cf_igsid: igsid ?? '' } });
      let lookups = 0;
      manychat.behaveOnLookup(() => {
        lookups += 1;
        return { status: 500, body: { status: 'error', message: 'Internal Server Error' } };
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'هلا' });
      const waiting = await eventually(async () => {
        const state = await deliveryState(radd.app, id);
        return state.delivery_error ? state : undefined;
      });
      // A lookup sends nothing: the reply still waits to be sent, no part of unknown outcome.
      expect(waiting).toMatchObject({ delivery_status: 'queued', parts: [] });
      expect(waiting.delivery_error).toMatch(/^lookup_failed: ManyChat subscriber lookup/);
      expect(lookups).toBeGreaterThan(0);
      expect(manychat.sends).toHaveLength(0);

      manychat.behaveOnLookup(() => undefined);
      const state = await settled(id);
      expect(state).toMatchObject({ delivery_status: 'sent', delivery_error: null });
      expect(manychat.sends.map((send) => send.subscriberId)).toEqual(['4410002']);
    });

    it('searches once for a customer ManyChat does not know, not on every reply', async () => {
      const merchant = await manychatMerchant({ manychatSubscriberField: 'cf_igsid' });
      const { conversationId } = await createConversation(radd.app, merchant.id);
      const lookups = () => manychat.server.received('GET', '/fb/subscriber/findByCustomField');
      for (const text of ['اولى', 'ثانية']) {
        const id = await queueReply(radd.app, merchant.id, conversationId, { text });
        expect((await settled(id)).delivery_error).toMatch(/^subscriber_unknown/);
      }
      expect(lookups()).toHaveLength(1);
      expect(manychat.sends).toHaveLength(0);
    });

    it('without a subscriber id goes through the Send API when the merchant has a token, else fails subscriber_unknown', async () => {
      const withToken = await manychatMerchant({
        manychatApiKey: MERCHANT_KEY,
        instagramAccessToken: PAGE_TOKEN,
      });
      const first = await createConversation(radd.app, withToken.id);
      const viaGraph = await queueReply(radd.app, withToken.id, first.conversationId, {
        text: 'أ',
      });
      expect(await settled(viaGraph)).toMatchObject({
        delivery_status: 'sent',
        channel: 'instagram',
      });
      expect(facebook.messages).toHaveLength(1);

      const without = await manychatMerchant();
      const second = await createConversation(radd.app, without.id);
      const lost = await queueReply(radd.app, without.id, second.conversationId, { text: 'ب' });
      const state = await settled(lost);
      expect(state.delivery_status).toBe('failed');
      expect(state.delivery_error).toMatch(/^subscriber_unknown/);
      expect(manychat.sends).toHaveLength(0);
    });

    it('answers a standby message of a ManyChat merchant through ManyChat, never through the Send API', async () => {
      const merchant = await manychatMerchant({
        manychatApiKey: MERCHANT_KEY,
        manychatSubscriberField: 'cf_igsid',
        instagramAccessToken: PAGE_TOKEN,
      });
      const customer = `sb-${randomBytes(4).toString('hex')}`;
      manychat.addSubscriber({ id: '5550001', fields: { cf_igsid: customer } });
      const now = Date.now();
      const standby = JSON.stringify({
        object: 'instagram',
        entry: [
          {
            id: merchant.instagramAccountId,
            time: now,
            standby: [
              {
                sender: { id: customer },
                recipient: { id: merchant.instagramAccountId },
                timestamp: now,
                message: { mid: `${customer}-1`, text: 'متوفر؟' },
              },
            ],
          },
        ],
      });
      expect((await postSigned(radd.url, standby)).status).toBe(200);
      const [send] = await manychat.waitForSends(1);
      expect(send.subscriberId).toBe('5550001');
      expect(facebook.messages).toHaveLength(0);

      // No subscriber for a second standby customer: not the Send API (another app owns the thread).
      const other = `sb-${randomBytes(4).toString('hex')}`;
      const body = standby.replaceAll(customer, other);
      expect((await postSigned(radd.url, body)).status).toBe(200);
      const reply = await eventually(async () => {
        const [row] = await db().query<Array<{ id: string }>>(
          `SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id
            WHERE cu.igsid = $1 AND m.direction = 'out'`,
          [other],
        );
        return row;
      });
      expect((await settled(reply.id)).delivery_error).toMatch(/^subscriber_unknown/);
      expect(facebook.messages).toHaveLength(0);
    });
  });

  describe('errors', () => {
    it('a 500, then success: sent once, after a retry', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      let failures = 0;
      facebook.behave((send) => {
        if (send.senderAction || failures > 0) return undefined;
        failures += 1;
        return { status: 500, body: 'Internal Server Error' };
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'جرب مرة ثانية' });
      const state = await settled(id);
      expect(state).toMatchObject({ delivery_status: 'sent', parts: [{ attempts: 2 }] });
      expect(facebook.messages.map((send) => send.messageId !== undefined)).toEqual([false, true]);
    });

    it('ManyChat: a 500 may have gone out: the part waits for its echo, and is sent again once none comes', async () => {
      const merchant = await manychatMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id, {
        subscriberId: '700010',
      });
      let failures = 0;
      manychat.behave(() => {
        if (failures > 0) return undefined;
        failures += 1;
        return { status: 500, body: 'Internal Server Error' };
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, {
        text: 'جرب مرة ثانية',
      });
      await eventually(async () => {
        const [part] = await db().query<Array<{ status: string; error: string | null }>>(
          `SELECT status, error FROM delivery_parts WHERE message_id = $1`,
          [id],
        );
        return part?.status === 'unknown' && part.error ? true : undefined;
      });
      const state = await settled(id);
      expect(state).toMatchObject({ delivery_status: 'sent', parts: [{ attempts: 2 }] });
      expect(manychat.sends).toHaveLength(2);
    });

    it('ManyChat: a 429 is not taken: the part is open again at once, and sent once after the wait', async () => {
      const merchant = await manychatMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id, {
        subscriberId: '700011',
      });
      let refusals = 0;
      manychat.behave(() => {
        if (refusals > 0) return undefined;
        refusals += 1;
        return { status: 429, body: 'Too Many Requests' };
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, {
        text: 'لحظة وأرد عليك',
      });
      await eventually(async () => {
        const [part] = await db().query<Array<{ status: string; error: string | null }>>(
          `SELECT status, error FROM delivery_parts WHERE message_id = $1`,
          [id],
        );
        return part?.status === 'pending' && part.error?.startsWith('rate_limited')
          ? true
          : undefined;
      });
      const state = await settled(id);
      expect(state).toMatchObject({ delivery_status: 'sent', parts: [{ attempts: 2 }] });
      expect(manychat.sends).toHaveLength(2);
    });

    it('a 613 rate limit: retried after the wait Meta asked for', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      let limited = false;
      facebook.behave((send) => {
        if (send.senderAction || limited) return undefined;
        limited = true;
        return graphError(613, 2534040, {
          message: 'Calls to this api have exceeded the rate limit.',
          headers: { 'retry-after': '3' },
        });
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'شوية شوية' });
      await settled(id);
      const [first, second] = facebook.messages;
      expect(facebook.messages).toHaveLength(2);
      expect(second.request.receivedAt - first.request.receivedAt).toBeGreaterThanOrEqual(2_900);
      expect(second.messageId).toBeDefined();
    });

    it('a 613 without a stated wait: every send of the merchant waits the default pause', async () => {
      tuneDelivery(radd.app, { throttlePauseMs: 1_500 });
      try {
        const merchant = await instagramMerchant();
        const a = await createConversation(radd.app, merchant.id);
        const b = await createConversation(radd.app, merchant.id);
        let limited = false;
        facebook.behave((send) => {
          if (send.senderAction || limited) return undefined;
          limited = true;
          return graphError(613, 2534040, {
            message: 'Calls to this api have exceeded the rate limit.',
          });
        });
        const first = await queueReply(radd.app, merchant.id, a.conversationId, { text: 'اولى' });
        await eventually(() => Promise.resolve(limited ? true : undefined));
        const second = await queueReply(radd.app, merchant.id, b.conversationId, {
          text: 'ثانية',
        });
        await Promise.all([settled(first), settled(second)]);
        const [throttled, ...after] = facebook.messages;
        expect(after).toHaveLength(2);
        for (const send of after) {
          expect(send.request.receivedAt - throttled.request.receivedAt).toBeGreaterThanOrEqual(
            1_400,
          );
        }
      } finally {
        tuneDelivery(radd.app, { throttlePauseMs: 60_000 });
      }
    });

    it('a window error: failed at once with the code kept, not retried', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      facebook.behave((send) =>
        send.senderAction
          ? undefined
          : graphError(10, 2534022, { message: 'This message is sent outside of allowed window.' }),
      );
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'متأخر' });
      const state = await settled(id);
      expect(state.delivery_status).toBe('failed');
      expect(state.delivery_error).toMatch(/^window_closed: Graph API error 10\/2534022/);
      expect(state.parts).toMatchObject([{ status: 'failed', attempts: 1 }]);
      await pause(2_500);
      expect(facebook.messages).toHaveLength(1);
    });

    it('a 190: the merchant is flagged, its deliveries pause, and resume once it connects again', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      let refuse = true;
      facebook.behave((send) =>
        refuse && !send.senderAction
          ? graphError(190, 460, {
              message: 'Error validating access token: the session is invalid.',
            })
          : undefined,
      );
      const first = await queueReply(radd.app, merchant.id, conversationId, { text: 'اول' });
      await eventually(async () => {
        const [row] = await db().query<Array<{ needs_reauth: boolean }>>(
          `SELECT needs_reauth FROM merchants WHERE id = $1`,
          [merchant.id],
        );
        return row.needs_reauth ? true : undefined;
      });
      const second = await queueReply(radd.app, merchant.id, conversationId, { text: 'ثاني' });
      await pause(1_500);
      expect(facebook.messages).toHaveLength(1);
      for (const id of [first, second]) {
        const state = await deliveryState(radd.app, id);
        expect(state.delivery_status).toBe('queued');
        expect(state.delivery_error).toMatch(/^needs_reauth/);
      }
      // What PATCH /api/merchants/:id does with a new token.
      refuse = false;
      await db().query(`UPDATE merchants SET needs_reauth = false WHERE id = $1`, [merchant.id]);
      await settled(first);
      await settled(second);
      expect(facebook.accepted.map((send) => send.text).sort()).toEqual(['اول', 'ثاني'].sort());
    });

    it('ManyChat: a 2xx with status "error" is a failure; 3011 (window) fails without retry', async () => {
      const merchant = await manychatMerchant();
      const a = await createConversation(radd.app, merchant.id, { subscriberId: '700001' });
      manychat.behave(() => ({
        status: 200,
        body: {
          status: 'error',
          message: 'Validation error',
          details: { messages: [{ message: 'Subscriber does not exist' }] },
        },
      }));
      const refused = await queueReply(radd.app, merchant.id, a.conversationId, { text: 'س' });
      const state = await settled(refused);
      expect(state.delivery_status).toBe('failed');
      expect(state.delivery_error).toMatch(/^manychat_rejected: .*Subscriber does not exist/);

      const b = await createConversation(radd.app, merchant.id, { subscriberId: '700002' });
      manychat.behave(() =>
        manyChatError(
          "Content can't be sent to subscriber without message tag. Subscriber's last interaction was over 24h ago.",
          { code: 3011 },
        ),
      );
      const late = await queueReply(radd.app, merchant.id, b.conversationId, { text: 'ص' });
      expect((await settled(late)).delivery_error).toMatch(/^window_closed: ManyChat error 3011/);
      await pause(2_500);
      expect(manychat.sends).toHaveLength(2);
    });

    it('the bot sends nothing outside the 24-hour window', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id, {
        lastCustomerMessageAgoMs: 25 * HOUR,
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'متأخر' });
      expect((await settled(id)).delivery_error).toMatch(/^window_closed/);
      expect(facebook.calls).toHaveLength(0);
    });
  });

  describe('parts', () => {
    it('a 2,500-byte Arabic reply goes as parts of at most 1000 bytes at word boundaries, in order, then the product image', async () => {
      const merchant = await instagramMerchant();
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      const text = longArabicReply();
      expect(bytes(text)).toBeGreaterThan(2_480);
      const id = await queueReply(radd.app, merchant.id, conversationId, {
        text,
        attachments: [{ type: 'image', url: 'https://cdn.example/dr-blk.jpg' }],
      });
      const state = await settled(id);
      const sends = facebook.messages;
      const texts = sends.filter((send) => send.text !== undefined).map((send) => send.text ?? '');
      expect(texts.length).toBe(3);
      for (const part of texts) expect(bytes(part)).toBeLessThanOrEqual(1000);
      expect(texts.join(' ')).toBe(text);
      expect(sends.at(-1)?.request.json).toEqual({
        recipient: { id: igsid },
        messaging_type: 'RESPONSE',
        message: {
          attachment: { type: 'image', payload: { url: 'https://cdn.example/dr-blk.jpg' } },
        },
      });
      expect(sends).toHaveLength(4);
      expect(state.parts.map((part) => [part.seq, part.kind, part.status])).toEqual([
        [0, 'text', 'sent'],
        [1, 'text', 'sent'],
        [2, 'text', 'sent'],
        [3, 'image', 'sent'],
      ]);
      expect(state.provider_message_id).toBe(sends[0].messageId);
    });

    it('through ManyChat the same reply is one sendContent: the text parts, then an image message', async () => {
      const merchant = await manychatMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id, {
        subscriberId: '800001',
      });
      const text = longArabicReply();
      const id = await queueReply(radd.app, merchant.id, conversationId, {
        text,
        attachments: [{ type: 'image', url: 'https://cdn.example/dr-blk.jpg' }],
      });
      await settled(id);
      expect(manychat.sends).toHaveLength(1);
      const messages = manychat.sends[0].messages;
      expect(messages.map((message) => message.type)).toEqual(['text', 'text', 'text', 'image']);
      expect(
        messages
          .slice(0, 3)
          .map((message) => message.text)
          .join(' '),
      ).toBe(text);
      expect(messages[3]).toEqual({ type: 'image', url: 'https://cdn.example/dr-blk.jpg' });
    });

    it('a private reply to a comment: recipient.comment_id, once per comment', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id, {
        lastCustomerMessageAgoMs: 3 * 24 * HOUR,
      });
      await db().query(
        `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, meta, occurred_at)
         VALUES ($1, $2, 'in', 'customer', 'comment', 'بكم؟', '{"commentId":"cm-1"}', now() - interval '1 day')`,
        [merchant.id, conversationId],
      );
      const first = await queueReply(radd.app, merchant.id, conversationId, {
        text: 'هلا بيك، سعره 45 الف',
        meta: { replyToCommentId: 'cm-1' },
      });
      await settled(first);
      expect(facebook.calls.map((send) => send.request.json)).toEqual([
        { recipient: { comment_id: 'cm-1' }, message: { text: 'هلا بيك، سعره 45 الف' } },
      ]);
      const again = await queueReply(radd.app, merchant.id, conversationId, {
        text: 'مرة ثانية',
        meta: { replyToCommentId: 'cm-1' },
      });
      expect((await settled(again)).delivery_error).toMatch(/^comment_already_answered/);
      expect(facebook.calls).toHaveLength(1);
    });
  });

  describe('private replies of the hour', () => {
    afterEach(() => tuneDelivery(radd.app, { privateRepliesPerHour: 750 }));

    it('sends at most privateRepliesPerHour private replies a merchant an hour, and sets the next aside', async () => {
      tuneDelivery(radd.app, { privateRepliesPerHour: 2 });
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      const ids: string[] = [];
      for (const comment of ['cm-h1', 'cm-h2', 'cm-h3']) {
        await db().query(
          `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text, meta, occurred_at)
           VALUES ($1, $2, 'in', 'customer', 'comment', 'بكم؟', $3, now() - interval '1 hour')`,
          [merchant.id, conversationId, JSON.stringify({ commentId: comment })],
        );
        ids.push(
          await queueReply(radd.app, merchant.id, conversationId, {
            text: `سعره 45 الف (${comment})`,
            meta: { replyToCommentId: comment },
          }),
        );
      }
      const deliveries = queue(radd.app, QueueName.MessageDelivery);
      const aside = await eventually(async () => {
        const states = await Promise.all(ids.map((id) => deliveries.getJobState(id)));
        return states.filter((state) => state === 'completed').length === 2 &&
          states.includes('delayed')
          ? ids[states.indexOf('delayed')]
          : undefined;
      });
      expect(facebook.calls.filter((send) => send.commentId !== undefined)).toHaveLength(2);
      const job = await deliveries.getJob(aside);
      // Due back once the oldest of the hour's two is an hour old, not retried meanwhile.
      expect((job?.delay ?? 0) + (job?.timestamp ?? 0) - Date.now()).toBeGreaterThan(3_500_000);
      expect(job?.attemptsMade).toBe(0);
      await job?.remove();
    });
  });

  describe('exactly once', () => {
    it('a retried job does not resend a part that was accepted and recorded', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      const text = longArabicReply();
      let failedSecond = false;
      let textSends = 0;
      facebook.behave((send) => {
        if (send.text === undefined) return undefined;
        textSends += 1;
        if (textSends === 2 && !failedSecond) {
          failedSecond = true;
          return graphError(2, undefined, { message: 'An unexpected error has occurred.' });
        }
        return undefined;
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text });
      const state = await settled(id);
      const sent = facebook.messages.map((send) => send.text ?? '');
      expect(sent).toHaveLength(4);
      expect(sent[1]).toBe(sent[2]);
      expect(facebook.accepted.map((send) => send.text).join(' ')).toBe(text);
      expect(state.parts.map((part) => part.attempts)).toEqual([1, 2, 1]);
    });

    it('a message handed back after its delivery job completed gets a new run (two runs met)', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'يوصلك باچر' });
      await settled(id);
      expect(await queue(radd.app, QueueName.MessageDelivery).getJobState(id)).toBe('completed');
      // What two runs of the message can leave: one completed finding nothing left to send while
      // the other's send failed, putting its part back to pending.
      await db().query(`UPDATE delivery_parts SET status = 'pending' WHERE message_id = $1`, [id]);
      await db().query(`UPDATE messages SET delivery_status = 'queued' WHERE id = $1`, [id]);
      await radd.app.get(MessageDeliveryProducer).enqueue(merchant.id, id);
      const state = await settled(id);
      expect(state.parts.map((part) => [part.status, part.attempts])).toEqual([['sent', 2]]);
      expect(facebook.messages.filter((send) => send.text !== undefined)).toHaveLength(2);
    });

    it('a send whose answer was lost stays unknown, and the echo Meta sends for it settles it without a resend', async () => {
      const merchant = await instagramMerchant();
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      let lost: GraphSend | undefined;
      facebook.behave((send) => {
        if (send.text === undefined || lost) return undefined;
        lost = send;
        return { hang: true }; // Meta took it, the answer never came
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, {
        text: 'وصلت؟',
        attachments: [{ type: 'image', url: 'https://cdn.example/x.jpg' }],
      });
      const unknown = await settled(id, ['unknown']);
      expect(unknown.parts.map((part) => part.status)).toEqual(['unknown', 'pending']);
      // Meta's echo of the message it accepted.
      const echo = echoOf(merchant.instagramAccountId, igsid, 'm-lost-answer', 'وصلت؟');
      expect((await postSigned(radd.url, echo)).status).toBe(200);
      const state = await settled(id, ['sent', 'delivered']);
      expect(state.parts.map((part) => [part.status, part.attempts])).toEqual([
        ['delivered', 1],
        ['sent', 1],
      ]);
      expect(state.parts[0].mid).toBe('m-lost-answer');
      expect(facebook.messages.map((send) => send.text ?? send.imageUrl)).toEqual([
        'وصلت؟',
        'https://cdn.example/x.jpg',
      ]);
      // The echo was Radd's own: no person replied, the bot is not paused.
      const [conversation] = await db().query<Array<{ bot_paused_until: Date | null }>>(
        `SELECT bot_paused_until FROM conversations WHERE id = $1`,
        [conversationId],
      );
      expect(conversation.bot_paused_until).toBeNull();
    });

    it('an echo read long after Meta sent it (a backlog) is still matched to its send by its own time', async () => {
      const merchant = await instagramMerchant();
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      let lost = false;
      facebook.behave((send) => {
        if (send.text === undefined || lost) return undefined;
        lost = true;
        return { hang: true };
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'تامر عيني' });
      await settled(id, ['unknown']);
      // The send, and its echo, ten minutes ago; the echo is read only now.
      await db().query(
        `UPDATE delivery_parts SET attempted_at = attempted_at - interval '10 minutes'
          WHERE message_id = $1`,
        [id],
      );
      const [part] = await db().query<Array<{ attempted_at: Date }>>(
        `SELECT attempted_at FROM delivery_parts WHERE message_id = $1`,
        [id],
      );
      await db().query(
        `UPDATE messages SET created_at = created_at - interval '10 minutes' WHERE id = $1`,
        [id],
      );
      const echo = echoOf(
        merchant.instagramAccountId,
        igsid,
        'm-late-echo',
        'تامر عيني',
        part.attempted_at.getTime() + 1_000,
      );
      expect((await postSigned(radd.url, echo)).status).toBe(200);
      const state = await settled(id, ['delivered']);
      expect(state.parts.map((p) => [p.status, p.mid])).toEqual([['delivered', 'm-late-echo']]);
      const [conversation] = await db().query<
        Array<{ bot_paused_until: Date | null; human: number }>
      >(
        `SELECT c.bot_paused_until,
                (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id AND m.sender = 'human') AS human
           FROM conversations c WHERE c.id = $1`,
        [conversationId],
      );
      expect(conversation).toEqual({ bot_paused_until: null, human: 0 });
      expect(facebook.messages.filter((send) => send.text !== undefined)).toHaveLength(1);
    });

    it('a send whose answer was lost and never echoed is sent again after the bounded wait', async () => {
      const merchant = await instagramMerchant();
      const { conversationId } = await createConversation(radd.app, merchant.id);
      let hung = false;
      facebook.behave((send) => {
        if (send.senderAction || hung) return undefined;
        hung = true;
        return { hang: true };
      });
      const id = await queueReply(radd.app, merchant.id, conversationId, { text: 'مرحبا' });
      const unknownAt = Date.now();
      await settled(id, ['unknown']);
      const state = await settled(id);
      expect(state).toMatchObject({
        delivery_status: 'sent',
        parts: [{ status: 'sent', attempts: 2 }],
      });
      const [first, second] = facebook.messages;
      expect(facebook.messages).toHaveLength(2);
      expect(second.request.receivedAt - first.request.receivedAt).toBeGreaterThanOrEqual(1_500);
      expect(Date.now() - unknownAt).toBeGreaterThanOrEqual(1_400);
    });

    it('a part a crashed worker left "sending" is reconciled by its echo, not blindly resent', async () => {
      const merchant = await instagramMerchant();
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      const id = await queueReply(radd.app, merchant.id, conversationId, {
        text: 'قبل الانهيار',
        enqueue: false,
      });
      // What a worker killed between Meta's answer and its record leaves behind.
      await db().query(`UPDATE messages SET channel = 'instagram' WHERE id = $1`, [id]);
      await db().query(
        `INSERT INTO delivery_parts (merchant_id, message_id, seq, kind, text, status, attempts, attempted_at)
         VALUES ($1, $2, 0, 'text', 'قبل الانهيار', 'sending', 1, now())`,
        [merchant.id, id],
      );
      await radd.app.get(MessageDeliveryProducer).enqueue(merchant.id, id);
      await settled(id, ['unknown']);
      expect(
        (
          await postSigned(
            radd.url,
            echoOf(merchant.instagramAccountId, igsid, 'm-crash', 'قبل الانهيار'),
          )
        ).status,
      ).toBe(200);
      const state: DeliveryState = await settled(id, ['delivered']);
      expect(state.parts).toMatchObject([{ status: 'delivered', mid: 'm-crash', attempts: 1 }]);
      await pause(2_000);
      expect(facebook.messages).toHaveLength(0);
    });
  });

  describe('POST /api/utility-messages/:merchantId/send', () => {
    const send = (merchantId: string, body: unknown, token: string | null) =>
      call<{ messageId: string; status: string; message?: string }>(
        radd.url,
        'POST',
        `/api/utility-messages/${merchantId}/send`,
        { token, body },
      );

    it('inside 24 hours: plain; at 3 days: MESSAGE_TAG + HUMAN_AGENT; at 8 days: 422 and nothing sent', async () => {
      const merchant = await instagramMerchant();
      const token = merchantToken(radd.app, merchant.id);
      const fresh = await createConversation(radd.app, merchant.id);
      const res = await send(
        merchant.id,
        { recipientId: fresh.igsid, message: 'طلبك جاهز' },
        token,
      );
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ messageId: expect.any(String) as unknown, status: 'queued' });
      await settled(res.body.messageId);
      expect(facebook.messages.map((s) => s.request.json)).toEqual([
        {
          recipient: { id: fresh.igsid },
          messaging_type: 'RESPONSE',
          message: { text: 'طلبك جاهز' },
        },
      ]);
      // A person's message: no typing indicator, and the bot steps back.
      expect(facebook.calls.filter((s) => s.senderAction)).toHaveLength(0);
      const [row] = await db().query<Array<{ sender: string }>>(
        `SELECT sender FROM messages WHERE id = $1`,
        [res.body.messageId],
      );
      expect(row.sender).toBe('human');

      facebook.reset();
      const late = await createConversation(radd.app, merchant.id, {
        lastCustomerMessageAgoMs: 3 * 24 * HOUR,
      });
      const tagged = await send(
        merchant.id,
        { conversationId: late.conversationId, message: 'اعتذر عن التأخير' },
        adminToken(radd.app),
      );
      expect(tagged.status).toBe(202);
      await settled(tagged.body.messageId);
      expect(facebook.messages.map((s) => s.request.json)).toEqual([
        {
          recipient: { id: late.igsid },
          messaging_type: 'MESSAGE_TAG',
          tag: 'HUMAN_AGENT',
          message: { text: 'اعتذر عن التأخير' },
        },
      ]);

      facebook.reset();
      const old = await createConversation(radd.app, merchant.id, {
        lastCustomerMessageAgoMs: 8 * 24 * HOUR,
      });
      const refused = await send(merchant.id, { recipientId: old.igsid, message: 'هلا' }, token);
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: expect.stringContaining('7 days') as unknown,
      });
      const [count] = await db().query<Array<{ count: string }>>(
        `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'`,
        [old.conversationId],
      );
      expect(count.count).toBe('0');
      await pause(300);
      expect(facebook.calls).toHaveLength(0);
    });

    it('through ManyChat at 3 days: message_tag HUMAN_AGENT; 2,000 characters go in parts of at most 1000 bytes', async () => {
      const merchant = await manychatMerchant();
      const late = await createConversation(radd.app, merchant.id, {
        subscriberId: '900001',
        lastCustomerMessageAgoMs: 3 * 24 * HOUR,
      });
      const message = 'عيني '.repeat(400).trim().slice(0, 2_000);
      const res = await send(
        merchant.id,
        { conversationId: late.conversationId, message, channel: 'manychat' },
        merchantToken(radd.app, merchant.id),
      );
      expect(res.status).toBe(202);
      await settled(res.body.messageId);
      const [sent] = manychat.sends;
      expect(sent.tag).toBe('HUMAN_AGENT');
      const texts = sent.messages.map((m) => m.text ?? '');
      expect(texts.length).toBeGreaterThan(1);
      for (const part of texts) expect(bytes(part)).toBeLessThanOrEqual(1000);
      expect(texts.join(' ')).toBe(message);
    });

    it('checks the window again at send time', async () => {
      const merchant = await instagramMerchant();
      const conversation = await createConversation(radd.app, merchant.id, {
        lastCustomerMessageAgoMs: 6 * 24 * HOUR,
      });
      const id = await queueReply(radd.app, merchant.id, conversation.conversationId, {
        text: 'متأخر جدا',
        sender: 'human',
        enqueue: false,
      });
      await db().query(
        `UPDATE conversations SET last_customer_message_at = now() - interval '8 days' WHERE id = $1`,
        [conversation.conversationId],
      );
      await radd.app.get(MessageDeliveryProducer).enqueue(merchant.id, id);
      expect((await settled(id)).delivery_error).toMatch(/^window_closed: .*7 days/);
      expect(facebook.calls).toHaveLength(0);
    });

    it('refuses bad input, other merchants and missing tokens', async () => {
      const merchant = await instagramMerchant();
      const other = await instagramMerchant();
      const { conversationId, igsid } = await createConversation(radd.app, merchant.id);
      const token = merchantToken(radd.app, merchant.id);
      const cases: Array<[unknown, string | null, string, number]> = [
        [{ recipientId: igsid, message: 'x' }, null, merchant.id, 401],
        [{ recipientId: igsid, message: 'x' }, merchantToken(radd.app, other.id), merchant.id, 404],
        [{ recipientId: igsid, conversationId, message: 'x' }, token, merchant.id, 400],
        [{ message: 'x' }, token, merchant.id, 400],
        [{ recipientId: igsid, message: '' }, token, merchant.id, 400],
        [{ recipientId: igsid, message: 'ع'.repeat(2_001) }, token, merchant.id, 400],
        [{ recipientId: igsid, message: 'x', channel: 'sms' }, token, merchant.id, 400],
        [{ recipientId: 'nobody', message: 'x' }, token, merchant.id, 404],
        [{ recipientId: igsid, message: 'x', channel: 'manychat' }, token, merchant.id, 202],
      ];
      for (const [body, auth, merchantId, status] of cases) {
        const res = await send(merchantId, body, auth);
        expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), status]);
      }
      const emoji = await send(
        merchant.id,
        { recipientId: igsid, message: '🌷'.repeat(2_000) },
        token,
      );
      expect(emoji.status).toBe(202);
    });
  });
});

import { MessageDeliveryProcessor } from 'src/delivery/message-delivery.processor';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import { startApp, uniquePrefix, type TestApp } from 'test/utils/app';
import { createConversation, queueReply, setCredentials } from 'test/utils/delivery';
import { FakeManyChat, manyChatKey } from 'test/utils/fake-manychat';
import { createMerchant, database, eventually } from 'test/utils/instagram';

const RATE = 40;
const REPLIES = 300;

describe('Delivery: the per-merchant send rate across worker processes (e2e)', () => {
  let manychat: FakeManyChat;
  let workers: TestApp[] = [];

  beforeAll(async () => {
    manychat = await FakeManyChat.start();
    const settings = {
      REDIS_PREFIX: uniquePrefix(),
      MANYCHAT_BASE_URL: manychat.url,
      SEND_RATE_PER_MERCHANT: String(RATE),
      DELIVERY_CONCURRENCY: '25',
    };
    workers = [
      await startApp(settings, { role: 'worker' }),
      await startApp(settings, { role: 'worker' }),
    ];
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await manychat.close();
  });

  it(`${REPLIES} replies for one merchant never exceed SEND_RATE_PER_MERCHANT (${RATE}/s) in any second, with two workers`, async () => {
    const [first, second] = workers;
    const completed = workers.map(() => 0);
    workers.forEach((worker, index) =>
      worker.app.get(MessageDeliveryProcessor).worker.on('completed', () => {
        completed[index] += 1;
      }),
    );
    const merchant = await createMerchant(first.app, { deliveryChannel: 'manychat' });
    await setCredentials(first.app, merchant.id, { manychatApiKey: manyChatKey('3333333') });
    const messages: string[] = [];
    for (let i = 0; i < REPLIES; i += 1) {
      const { conversationId } = await createConversation(first.app, merchant.id, {
        subscriberId: String(1_000_000 + i),
      });
      messages.push(
        await queueReply(first.app, merchant.id, conversationId, {
          text: `رد رقم ${i}`,
          enqueue: false,
        }),
      );
    }
    const producer = second.app.get(MessageDeliveryProducer);
    await Promise.all(messages.map((id) => producer.enqueue(merchant.id, id)));

    await manychat.waitForSends(REPLIES, 60_000);
    const times = manychat.sends.map((send) => send.request.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(REPLIES);

    // Any window of one second, wherever it starts, and every calendar second.
    let busiest = 0;
    for (let i = 0; i < times.length; i += 1) {
      let j = i;
      while (j < times.length && times[j] < times[i] + 1_000) j += 1;
      busiest = Math.max(busiest, j - i);
    }
    expect(busiest).toBeLessThanOrEqual(RATE);
    const perSecond = new Map<number, number>();
    for (const time of times) {
      const second = Math.floor(time / 1_000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(RATE);
    // The limit is what paced the sends (not a slow machine), and both workers took part.
    expect(busiest).toBeGreaterThanOrEqual(RATE * 0.75);
    expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(
      ((REPLIES - RATE) / RATE) * 1_000,
    );
    expect(completed.every((count) => count > 0)).toBe(true);
    // Every reply went exactly once.
    expect(new Set(manychat.sends.map((send) => send.subscriberId)).size).toBe(REPLIES);
    await eventually(async () => {
      const [counts] = await database(first.app).query<Array<{ sent: number }>>(
        `SELECT count(*)::int AS sent FROM messages
          WHERE merchant_id = $1 AND direction = 'out' AND delivery_status = 'sent'`,
        [merchant.id],
      );
      return counts.sent === REPLIES ? true : undefined;
    });
  }, 90_000);
});

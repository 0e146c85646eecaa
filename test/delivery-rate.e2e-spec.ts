import { createHash } from 'node:crypto';
import { MessageDeliveryProcessor } from 'src/delivery/message-delivery.processor';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import { MANYCHAT_SEND_RATE } from 'src/delivery/send-rate.limiter';
import { RedisService } from 'src/redis/redis.service';
import { startApp, uniquePrefix, type TestApp } from 'test/utils/app';
import { createConversation, queueReply, setCredentials } from 'test/utils/delivery';
import { FakeGraph } from 'test/utils/fake-graph';
import { FakeManyChat, manyChatKey } from 'test/utils/fake-manychat';
import { createMerchant, database, eventually } from 'test/utils/instagram';

const REPLIES = 150;
const PAGE_TOKEN = 'EAAGpagetoken0000000000000000';

/**
 * The moments (Redis clock, ms) at which the limiter granted a slot of one budget: read from the
 * budget's own log, which keeps every grant for longer than a second; polled far more often.
 * The provider sees each send a little later, by a varying delay, which the limiter's window
 * (0.4 s longer than a second) absorbs.
 */
class GrantLog {
  private readonly grants = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisService,
    private readonly key: string,
  ) {
    this.timer = setInterval(() => void this.read(), 100);
  }

  async stop(): Promise<number[]> {
    clearInterval(this.timer);
    await this.read();
    return [...this.grants.values()].sort((a, b) => a - b);
  }

  private async read(): Promise<void> {
    const entries = await this.redis.client.zrange(this.key, 0, -1, 'WITHSCORES');
    for (let i = 0; i < entries.length; i += 2) this.grants.set(entries[i], Number(entries[i + 1]));
  }
}

/** The most grants in any one-second window, wherever it starts. */
function busiestSecond(times: number[]): number {
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i += 1) {
    while (j < times.length && times[j] < times[i] + 1_000) j += 1;
    busiest = Math.max(busiest, j - i);
  }
  return busiest;
}

describe('Delivery: send rates across worker processes (e2e)', () => {
  let manychat: FakeManyChat;
  let graph: FakeGraph;
  const runs: TestApp[] = [];

  beforeAll(async () => {
    [manychat, graph] = await Promise.all([FakeManyChat.start(), FakeGraph.start()]);
  });
  afterEach(async () => {
    await Promise.all(runs.splice(0).map((worker) => worker.close()));
    manychat.reset();
    graph.reset();
  });
  afterAll(async () => {
    await Promise.all([manychat.close(), graph.close()]);
  });

  async function twoWorkers(rate: number): Promise<TestApp[]> {
    const settings = {
      REDIS_PREFIX: uniquePrefix(),
      MANYCHAT_BASE_URL: manychat.url,
      GRAPH_API_BASE_URL: graph.url,
      SEND_RATE_PER_MERCHANT: String(rate),
      DELIVERY_CONCURRENCY: '25',
    };
    runs.push(
      await startApp(settings, { role: 'worker' }),
      await startApp(settings, { role: 'worker' }),
    );
    return runs;
  }

  /**
   * Queues `count` replies to distinct customers (ManyChat subscribers) of the merchants, through
   * the second worker; a person's replies, so that no typing indicator takes a slot too.
   */
  async function deliver(workers: TestApp[], merchantIds: string[], count = REPLIES) {
    const [first, second] = workers;
    const queued: Array<[string, string]> = [];
    for (const merchantId of merchantIds) {
      for (let i = 0; i < count / merchantIds.length; i += 1) {
        const { conversationId } = await createConversation(first.app, merchantId, {
          subscriberId: String(1_000_000 + queued.length),
        });
        const id = await queueReply(first.app, merchantId, conversationId, {
          text: `رد رقم ${queued.length}`,
          sender: 'human',
          enqueue: false,
        });
        queued.push([merchantId, id]);
      }
    }
    const producer = second.app.get(MessageDeliveryProducer);
    await Promise.all(queued.map(([merchantId, id]) => producer.enqueue(merchantId, id)));
  }

  async function expectAllSentOnce(app: TestApp, merchantIds: string[]): Promise<void> {
    await manychat.waitForSends(REPLIES, 60_000);
    expect(manychat.sends).toHaveLength(REPLIES);
    expect(new Set(manychat.sends.map((send) => send.subscriberId)).size).toBe(REPLIES);
    await eventually(async () => {
      const [counts] = await database(app.app).query<Array<{ sent: number }>>(
        `SELECT count(*)::int AS sent FROM messages
          WHERE merchant_id = ANY($1) AND direction = 'out' AND delivery_status = 'sent'`,
        [merchantIds],
      );
      return counts.sent === REPLIES ? true : undefined;
    });
  }

  it('300 replies for one merchant never exceed SEND_RATE_PER_MERCHANT in any second, as granted and as the provider saw them, with two workers', async () => {
    const rate = 40;
    const replies = 300;
    const workers = await twoWorkers(rate);
    const completed = workers.map(() => 0);
    workers.forEach((worker, index) =>
      worker.app.get(MessageDeliveryProcessor).worker.on('completed', () => {
        completed[index] += 1;
      }),
    );
    const merchant = await createMerchant(workers[0].app, { deliveryChannel: 'instagram' });
    await setCredentials(workers[0].app, merchant.id, { instagramAccessToken: PAGE_TOKEN });
    const redis = workers[0].app.get(RedisService);
    const log = new GrantLog(redis, redis.key('delivery', 'rate', merchant.id));

    await deliver(workers, [merchant.id], replies);
    await graph.waitForMessages(replies, 60_000);
    const grants = await log.stop();

    // As granted (Redis's clock): any window of one second, wherever it starts.
    expect(grants).toHaveLength(replies);
    expect(busiestSecond(grants)).toBeLessThanOrEqual(rate);
    // As the provider's log has them: any one-second window and every calendar second.
    const arrivals = graph.calls.map((call) => call.request.receivedAt).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(replies);
    expect(busiestSecond(arrivals)).toBeLessThanOrEqual(rate);
    const perSecond = new Map<number, number>();
    for (const time of arrivals) {
      const second = Math.floor(time / 1_000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(rate);
    // The limit is what paced the sends (not a slow machine), and both workers took part.
    expect(busiestSecond(grants)).toBeGreaterThanOrEqual(rate * 0.75);
    expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(
      ((replies - rate) / rate) * 1_000,
    );
    expect(completed.every((count) => count > 0)).toBe(true);
    // Every reply went exactly once.
    expect(new Set(graph.calls.map((call) => call.recipientId)).size).toBe(replies);
    await eventually(async () => {
      const [counts] = await database(workers[0].app).query<Array<{ sent: number }>>(
        `SELECT count(*)::int AS sent FROM messages
          WHERE merchant_id = $1 AND direction = 'out' AND delivery_status = 'sent'`,
        [merchant.id],
      );
      return counts.sent === replies ? true : undefined;
    });
  }, 90_000);

  it("one merchant's backlog of rate-limited replies does not hold up another merchant's reply", async () => {
    // Few delivery slots and a low rate: the busy merchant's 40 replies take about ten seconds.
    const rate = 5;
    const worker = await startApp(
      {
        REDIS_PREFIX: uniquePrefix(),
        GRAPH_API_BASE_URL: graph.url,
        SEND_RATE_PER_MERCHANT: String(rate),
        DELIVERY_CONCURRENCY: '4',
      },
      { role: 'worker' },
    );
    runs.push(worker);
    const [busy, quiet] = [
      await createMerchant(worker.app, { deliveryChannel: 'instagram' }),
      await createMerchant(worker.app, { deliveryChannel: 'instagram' }),
    ];
    for (const merchant of [busy, quiet]) {
      await setCredentials(worker.app, merchant.id, { instagramAccessToken: PAGE_TOKEN });
    }
    const replies: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const { conversationId } = await createConversation(worker.app, busy.id);
      replies.push(
        await queueReply(worker.app, busy.id, conversationId, {
          text: `رد رقم ${i}`,
          sender: 'human',
          enqueue: false,
        }),
      );
    }
    const producer = worker.app.get(MessageDeliveryProducer);
    await Promise.all(replies.map((id) => producer.enqueue(busy.id, id)));
    await graph.waitForMessages(4, 10_000);

    const { conversationId, igsid } = await createConversation(worker.app, quiet.id);
    const quietReply = await queueReply(worker.app, quiet.id, conversationId, {
      text: 'رد التاجر الثاني',
      sender: 'human',
      enqueue: false,
    });
    const queuedAt = Date.now();
    await producer.enqueue(quiet.id, quietReply);
    const quietSent = await eventually(
      () => Promise.resolve(graph.calls.find((call) => call.recipientId === igsid)),
      15_000,
      "the quiet merchant's reply",
    );
    const busySent = graph.calls.filter((call) => call.recipientId !== igsid);
    // The quiet merchant's reply went within a couple of seconds, while the busy one still had
    // most of its backlog to send.
    expect(quietSent.request.receivedAt - queuedAt).toBeLessThan(2_500);
    expect(busySent.length).toBeLessThan(30);

    // And the busy merchant's replies all went, once each, within its rate.
    await graph.waitForMessages(41, 30_000);
    const busyArrivals = graph.calls
      .filter((call) => call.recipientId !== igsid)
      .map((call) => call.request.receivedAt)
      .sort((a, b) => a - b);
    expect(busyArrivals).toHaveLength(40);
    expect(new Set(graph.calls.map((call) => call.recipientId)).size).toBe(41);
    expect(busiestSecond(busyArrivals)).toBeLessThanOrEqual(rate);
  }, 60_000);

  it(`merchants sharing a ManyChat API key share its ${MANYCHAT_SEND_RATE}/s sendContent limit`, async () => {
    const workers = await twoWorkers(80);
    const key = manyChatKey('4444444');
    const merchants = [
      await createMerchant(workers[0].app, { deliveryChannel: 'manychat' }),
      await createMerchant(workers[0].app, { deliveryChannel: 'manychat' }),
    ];
    for (const merchant of merchants) {
      await setCredentials(workers[0].app, merchant.id, { manychatApiKey: key });
    }
    const redis = workers[0].app.get(RedisService);
    const digest = createHash('sha256').update(key).digest('hex').slice(0, 24);
    const log = new GrantLog(redis, redis.key('delivery', 'rate', 'key', digest));

    const ids = merchants.map((merchant) => merchant.id);
    await deliver(workers, ids);
    await expectAllSentOnce(workers[0], ids);
    const grants = await log.stop();

    expect(grants).toHaveLength(REPLIES);
    const busiest = busiestSecond(grants);
    expect(busiest).toBeLessThanOrEqual(MANYCHAT_SEND_RATE);
    expect(busiest).toBeGreaterThanOrEqual(MANYCHAT_SEND_RATE * 0.75);
  }, 90_000);
});

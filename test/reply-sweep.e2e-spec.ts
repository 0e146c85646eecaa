import { randomBytes } from 'node:crypto';
import { ReplySweeper } from 'src/ai/reply.sweeper';
import { QueueName } from 'src/queue/queue.constants';
import { DATA_MARKER_KEY } from 'src/redis/redis-data-loss';
import { RedisService } from 'src/redis/redis.service';
import { startApp, type TestApp } from 'test/utils/app';
import { createConversation, queueReply, setCredentials } from 'test/utils/delivery';
import { FakeGraph, graphError } from 'test/utils/fake-graph';
import {
  createMerchant,
  database,
  eventually,
  postSigned,
  queue,
  textDm,
} from 'test/utils/instagram';

const PAGE_TOKEN = 'EAAGpagetoken0000000000000000';

interface Owed {
  id: string;
  reply_owed_at: Date | null;
}

/**
 * Jobs live in Redis and can be lost with it; what is owed lives in PostgreSQL. These tests lose
 * the jobs on purpose (drop them from their queues) and let the sweeper put them back.
 */
describe('Reply sweeper: replies and deliveries whose jobs were lost (e2e)', () => {
  let radd: TestApp;
  let facebook: FakeGraph;
  let instagram: FakeGraph;
  let merchant: { id: string; instagramAccountId: string };

  beforeAll(async () => {
    [facebook, instagram] = await Promise.all([FakeGraph.start(), FakeGraph.start()]);
    radd = await startApp({
      // Long enough that the reply job of a DM is still waiting when the test drops it.
      AI_DEBOUNCE_MS: '60000',
      GRAPH_API_BASE_URL: facebook.url,
      INSTAGRAM_API_BASE_URL: instagram.url,
    });
    merchant = await createMerchant(radd.app, { deliveryChannel: 'instagram' });
    await setCredentials(radd.app, merchant.id, { instagramAccessToken: PAGE_TOKEN });
  });
  afterAll(async () => {
    await radd.close();
    await Promise.all([facebook.close(), instagram.close()]);
  });
  beforeEach(() => {
    facebook.reset();
    instagram.reset();
  });

  const db = () => database(radd.app);
  const sweeper = () => radd.app.get(ReplySweeper);
  const sent = () => [...facebook.messages, ...instagram.messages];

  async function conversationOf(customer: string): Promise<Owed> {
    return eventually(async () => {
      const [row] = await db().query<Owed[]>(
        `SELECT c.id, c.reply_owed_at FROM conversations c JOIN customers cu ON cu.id = c.customer_id
          WHERE cu.igsid = $1 AND c.merchant_id = $2`,
        [customer, merchant.id],
      );
      return row;
    });
  }

  /** Moves what the conversation owes, and its messages, into the past. */
  async function age(conversationId: string, seconds: number): Promise<void> {
    await db().query(
      `UPDATE conversations SET reply_owed_at = reply_owed_at - make_interval(secs => $2),
              last_customer_message_at = last_customer_message_at - make_interval(secs => $2)
        WHERE id = $1`,
      [conversationId, seconds],
    );
  }

  async function dmWithLostReplyJob(customer: string, text: string): Promise<Owed> {
    const body = textDm(
      merchant.instagramAccountId,
      customer,
      `m_${randomBytes(8).toString('hex')}`,
      text,
    );
    expect((await postSigned(radd.url, body)).status).toBe(200);
    const conversation = await eventually(async () => {
      const row = await conversationOf(customer);
      return row.reply_owed_at ? row : undefined;
    });
    const replies = queue(radd.app, QueueName.AiResponse);
    await eventually(async () => ((await replies.getDelayedCount()) > 0 ? true : undefined));
    await replies.obliterate({ force: true });
    return conversation;
  }

  /** The customer got one reply, sent once, and the conversation owes nothing more. */
  async function expectAnsweredOnce(customer: string, conversationId: string): Promise<void> {
    await eventually(
      () => Promise.resolve(sent().length > 0 ? true : undefined),
      15_000,
      'the reply',
    );
    await eventually(async () =>
      (await conversationOf(customer)).reply_owed_at === null ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sent()).toHaveLength(1);
    expect(sent()[0].recipientId).toBe(customer);
    const [{ bot }] = await db().query<Array<{ bot: number }>>(
      `SELECT count(*)::int AS bot FROM messages WHERE conversation_id = $1 AND sender = 'bot'`,
      [conversationId],
    );
    expect(bot).toBe(1);
  }

  it('records a reply owed with the stored message and settles it once the turn is answered', async () => {
    const customer = `sweep-${randomBytes(4).toString('hex')}`;
    const conversation = await dmWithLostReplyJob(customer, 'شكد سعر القميص؟');

    // Still within the turn's grace: nothing is taken for lost.
    expect(await sweeper().sweep()).toEqual({ replies: 0, deliveries: 0 });
    await age(conversation.id, 120);
    expect((await sweeper().sweep()).replies).toBe(1);
    // Asked again before the job ran, the same owed reply is not queued twice.
    await sweeper().sweep();

    await expectAnsweredOnce(customer, conversation.id);
    // Settled: a later pass has nothing to do.
    expect(await sweeper().sweep()).toEqual({ replies: 0, deliveries: 0 });
  });

  it('queues every reply still owed at once when Redis has lost its data, and answers it once', async () => {
    await sweeper().sweep();
    const customer = `sweep-${randomBytes(4).toString('hex')}`;
    const conversation = await dmWithLostReplyJob(customer, 'عدكم تيشيرت اسود؟');
    // Only the job was lost: within the turn's grace, the sweeper waits.
    expect((await sweeper().sweep()).replies).toBe(0);

    // Redis loses its data: the marker the sweeper saw goes with the jobs.
    const redis = radd.app.get(RedisService);
    await redis.client.del(redis.key(DATA_MARKER_KEY));
    expect((await sweeper().sweep()).replies).toBe(1);
    // The marker is back: the next pass waits out the grace again.
    expect((await sweeper().sweep()).replies).toBe(0);

    await expectAnsweredOnce(customer, conversation.id);
  });

  it('settles what is owed when the turn is decided without a reply (the bot is paused here)', async () => {
    const customer = `sweep-${randomBytes(4).toString('hex')}`;
    const conversation = await dmWithLostReplyJob(customer, 'هلو');
    await db().query(
      `UPDATE conversations SET bot_paused_until = now() + interval '1 hour' WHERE id = $1`,
      [conversation.id],
    );
    await age(conversation.id, 120);
    expect((await sweeper().sweep()).replies).toBe(1);
    await eventually(async () =>
      (await conversationOf(customer)).reply_owed_at === null ? true : undefined,
    );
    expect(sent()).toHaveLength(0);
  });

  it('leaves alone replies owed for longer than the 24-hour window', async () => {
    const customer = `sweep-${randomBytes(4).toString('hex')}`;
    const conversation = await dmWithLostReplyJob(customer, 'هلو');
    await age(conversation.id, 25 * 3600);
    expect((await sweeper().sweep()).replies).toBe(0);
    expect((await conversationOf(customer)).reply_owed_at).not.toBeNull();
  });

  it('sends a stored reply whose delivery job was lost, once, and retries one that failed for good', async () => {
    const lost = await createConversation(radd.app, merchant.id, { igsid: 'sweep-lost-delivery' });
    const lostId = await queueReply(radd.app, merchant.id, lost.conversationId, {
      text: 'هلا بيك 🌷',
      enqueue: false,
    });
    const failed = await createConversation(radd.app, merchant.id, { igsid: 'sweep-failed-job' });
    const failedId = await queueReply(radd.app, merchant.id, failed.conversationId, {
      text: 'اي متوفر',
      enqueue: false,
    });
    const deliveries = queue(radd.app, QueueName.MessageDelivery);
    // A job that failed for good (Meta down) whose failure was never recorded (PostgreSQL was
    // away too): the job is `failed`, the message still `queued`.
    facebook.behave((send) =>
      send.recipientId === 'sweep-failed-job'
        ? graphError(2, undefined, { status: 500 })
        : undefined,
    );
    await deliveries.add(
      'deliver',
      { merchantId: merchant.id, messageId: failedId },
      { jobId: failedId, attempts: 1 },
    );
    await eventually(async () => {
      const [row] = await db().query<Array<{ delivery_status: string }>>(
        `SELECT delivery_status FROM messages WHERE id = $1`,
        [failedId],
      );
      return row.delivery_status === 'failed' ? true : undefined;
    });
    expect(await deliveries.getJobState(failedId)).toBe('failed');
    await db().query(`UPDATE delivery_parts SET status = 'pending' WHERE message_id = $1`, [
      failedId,
    ]);
    await db().query(`UPDATE messages SET delivery_status = 'queued' WHERE id = $1`, [failedId]);
    facebook.reset();

    // Young messages may still have their job on the way.
    expect((await sweeper().sweep()).deliveries).toBe(0);
    await db().query(
      `UPDATE messages SET created_at = created_at - interval '2 minutes' WHERE id = ANY($1)`,
      [[lostId, failedId]],
    );
    expect((await sweeper().sweep()).deliveries).toBe(2);
    await eventually(
      () => Promise.resolve(sent().length >= 2 ? true : undefined),
      15_000,
      'both sends',
    );
    const statuses = await eventually(async () => {
      const rows = await db().query<Array<{ delivery_status: string }>>(
        `SELECT delivery_status FROM messages WHERE id = ANY($1)`,
        [[lostId, failedId]],
      );
      return rows.every((row) => row.delivery_status === 'sent') ? rows : undefined;
    });
    expect(statuses).toHaveLength(2);
    expect(await sweeper().sweep()).toEqual({ replies: 0, deliveries: 0 });
    expect(sent().map((send) => send.recipientId)).toEqual(
      expect.arrayContaining(['sweep-lost-delivery', 'sweep-failed-job']),
    );
    expect(sent()).toHaveLength(2);
  });

  it('gives a delivery job that failed for good all its attempts again when it retries it', async () => {
    const customer = 'sweep-fresh-attempts';
    const { conversationId } = await createConversation(radd.app, merchant.id, { igsid: customer });
    const messageId = await queueReply(radd.app, merchant.id, conversationId, {
      text: 'تدلل عيوني',
      enqueue: false,
    });
    const deliveries = queue(radd.app, QueueName.MessageDelivery);
    // Meta refuses three sends (typing indicators pass): the job's two attempts, then the first
    // of its retry.
    let refusals = 3;
    facebook.behave((send) =>
      send.recipientId === customer && send.senderAction === undefined && refusals-- > 0
        ? graphError(2, undefined, { status: 500 })
        : undefined,
    );
    await deliveries.add(
      'deliver',
      { merchantId: merchant.id, messageId },
      { jobId: messageId, attempts: 2, backoff: { type: 'fixed', delay: 50 } },
    );
    await eventually(async () =>
      (await deliveries.getJobState(messageId)) === 'failed' ? true : undefined,
    );
    // As if PostgreSQL had been away when the job gave up: the message is still owed.
    await db().query(`UPDATE delivery_parts SET status = 'pending' WHERE message_id = $1`, [
      messageId,
    ]);
    await db().query(
      `UPDATE messages SET delivery_status = 'queued', created_at = created_at - interval '2 minutes'
        WHERE id = $1`,
      [messageId],
    );

    // This pass queues the job again, or the periodic one, if its timer came first: either way
    // the reply goes out only if the retried job got fresh attempts.
    const report = await sweeper().sweep();
    expect(report.deliveries).toBeLessThanOrEqual(1);
    await eventually(
      async () => {
        const [row] = await db().query<Array<{ delivery_status: string }>>(
          `SELECT delivery_status FROM messages WHERE id = $1`,
          [messageId],
        );
        return row.delivery_status === 'sent' ? true : undefined;
      },
      15_000,
      'the reply sent on the second attempt of the retry',
    );
    const calls = sent().filter((send) => send.recipientId === customer);
    expect(calls).toHaveLength(4);
    expect(calls.filter((send) => send.messageId !== undefined)).toHaveLength(1);
    // One retry, counted afresh: a refusal and the send.
    expect((await deliveries.getJob(messageId))?.attemptsMade).toBeLessThanOrEqual(2);
  });

  it('reaches an undelivered message behind more than a page of others that still have their job', async () => {
    const lost = await createConversation(radd.app, merchant.id, { igsid: 'sweep-behind-page' });
    const lostId = await queueReply(radd.app, merchant.id, lost.conversationId, {
      text: 'وصل طلبك؟',
      enqueue: false,
    });
    // 500 older replies waiting with their jobs (as for a merchant who must re-authorise).
    const waiting = await db().query<Array<{ id: string }>>(
      `INSERT INTO messages (merchant_id, conversation_id, direction, sender, type, text,
                             delivery_status, occurred_at, created_at)
       SELECT $1, $2, 'out', 'bot', 'text', 'تمام', 'queued', now(),
              now() - interval '3 minutes' - n * interval '1 ms'
         FROM generate_series(1, 500) AS n RETURNING id`,
      [merchant.id, lost.conversationId],
    );
    const deliveries = queue(radd.app, QueueName.MessageDelivery);
    await deliveries.addBulk(
      waiting.map(({ id }) => ({
        name: 'deliver',
        data: { merchantId: merchant.id, messageId: id },
        opts: { jobId: id, delay: 3_600_000 },
      })),
    );
    await db().query(
      `UPDATE messages SET created_at = created_at - interval '2 minutes' WHERE id = $1`,
      [lostId],
    );
    try {
      let passes = 0;
      while ((await deliveries.getJobState(lostId)) === 'unknown' && passes < 3) {
        await sweeper().sweep();
        passes += 1;
      }
      expect(await deliveries.getJobState(lostId)).not.toBe('unknown');
      await eventually(
        async () => {
          const [row] = await db().query<Array<{ delivery_status: string }>>(
            `SELECT delivery_status FROM messages WHERE id = $1`,
            [lostId],
          );
          return row.delivery_status === 'sent' ? true : undefined;
        },
        15_000,
        'the reply behind the page',
      );
    } finally {
      await deliveries.drain(true);
      await db().query(`UPDATE messages SET delivery_status = 'failed' WHERE id = ANY($1)`, [
        waiting.map(({ id }) => id),
      ]);
    }
  });

  it('retries an owed reply job that failed for good instead of adding it again in vain', async () => {
    const customer = `sweep-${randomBytes(4).toString('hex')}`;
    const conversation = await dmWithLostReplyJob(customer, 'شكد سعره؟');
    await age(conversation.id, 120);
    const { reply_owed_at: owedAt } = await conversationOf(customer);
    if (!owedAt) throw new Error('the conversation should owe a reply');
    // The owed moment's job ran before and failed for good (here: data it cannot read).
    const replies = queue(radd.app, QueueName.AiResponse);
    const jobId = `owed-${conversation.id}-${owedAt.getTime()}`;
    await replies.add(
      'reply',
      { merchantId: 'not-a-merchant', conversationId: conversation.id },
      { jobId, attempts: 1 },
    );
    const firstEnd = await eventually(async () => {
      const job = await replies.getJob(jobId);
      return (await job?.isFailed()) ? job?.finishedOn : undefined;
    });

    expect((await sweeper().sweep()).replies).toBe(1);
    // Run again, from its first attempt: it fails again, later.
    await eventually(async () => {
      const job = await replies.getJob(jobId);
      return (await job?.isFailed()) && (job?.finishedOn ?? 0) > (firstEnd ?? 0) ? true : undefined;
    });
    expect((await replies.getJob(jobId))?.attemptsMade).toBe(1);
    await db().query(`UPDATE conversations SET reply_owed_at = NULL WHERE id = $1`, [
      conversation.id,
    ]);
  });

  it('pages through more owed replies than one pass reads at a time, each queued once', async () => {
    const tag = randomBytes(4).toString('hex');
    // Owed at the same moment, two minutes ago, by conversations whose bot is paused: the turns
    // settle without a model call or a send.
    const owed = await db().query<Array<{ id: string }>>(
      `WITH cu AS (
         INSERT INTO customers (merchant_id, igsid)
         SELECT $1, 'page-' || $2 || '-' || n FROM generate_series(1, 501) AS n RETURNING id
       )
       INSERT INTO conversations (merchant_id, customer_id, last_customer_message_at,
                                  reply_owed_at, bot_paused_until)
       SELECT $1, id, now() - interval '2 minutes', now() - interval '2 minutes',
              now() + interval '1 hour'
         FROM cu RETURNING id`,
      [merchant.id, tag],
    );
    expect(owed).toHaveLength(501);
    expect((await sweeper().sweep()).replies).toBe(501);
    await eventually(
      async () => {
        const [{ left }] = await db().query<Array<{ left: number }>>(
          `SELECT count(*)::int AS left FROM conversations
            WHERE id = ANY($1::uuid[]) AND reply_owed_at IS NOT NULL`,
          [owed.map((row) => row.id)],
        );
        return left === 0 ? true : undefined;
      },
      30_000,
      'every owed reply settled',
    );
    expect(sent()).toHaveLength(0);
  });
});

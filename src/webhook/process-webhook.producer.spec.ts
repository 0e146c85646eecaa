import type { Queue } from 'bullmq';
import type { MetricsService } from 'src/metrics/metrics.service';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import type { RedisService } from 'src/redis/redis.service';
import { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import type { WebhookBacklog } from 'src/webhook/webhook-backlog';

describe('ProcessWebhookProducer', () => {
  function producer(room: number, ready = true) {
    const added: string[] = [];
    const held: string[] = [];
    const counted: number[] = [];
    const queue = {
      add: (_name: string, data: ProcessWebhookJob) => {
        added.push(data.webhookEventId);
        return Promise.resolve();
      },
    } as unknown as Queue<ProcessWebhookJob>;
    const backlog = {
      room: () => room,
      added: (count: number) => counted.push(count),
      hold: (id: string) => {
        held.push(id);
        return Promise.resolve();
      },
    } as unknown as WebhookBacklog;
    const heldBySource: string[] = [];
    const metrics = {
      webhooksHeld: { inc: (labels: { source: string }) => heldBySource.push(labels.source) },
    } as unknown as MetricsService;
    return {
      subject: new ProcessWebhookProducer(queue, backlog, metrics, {
        reachable: () => ready,
      } as unknown as RedisService),
      added,
      held,
      counted,
      heldBySource,
    };
  }

  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it('queues the events of one moment together, as many as the queue has room for, and holds the rest from the first left over', async () => {
    const { subject, added, held, counted, heldBySource } = producer(2);
    for (const id of ['e1', 'e2', 'e3', 'e4']) subject.enqueue('instagram', id);
    await settled();
    await settled();
    expect(added).toEqual(['e1', 'e2']);
    expect(counted).toEqual([2]);
    expect(held).toEqual(['e3']);
    expect(heldBySource).toEqual(['instagram', 'instagram']);
  });

  it('holds nothing while there is room', async () => {
    const { subject, added, held } = producer(Number.POSITIVE_INFINITY);
    for (const id of ['e1', 'e2', 'e3']) subject.enqueue('manychat', id);
    await settled();
    await settled();
    expect(added).toEqual(['e1', 'e2', 'e3']);
    expect(held).toEqual([]);
  });

  it('leaves the events to the outbox while Redis is away, neither adding nor holding them', async () => {
    const { subject, added, held, counted } = producer(Number.POSITIVE_INFINITY, false);
    for (const id of ['e1', 'e2']) subject.enqueue('instagram', id);
    await settled();
    await settled();
    expect(added).toEqual([]);
    expect(held).toEqual([]);
    expect(counted).toEqual([]);
  });
});

import { UnrecoverableError } from 'bullmq';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import type { OutboundMessage } from 'src/delivery/delivery-part.store';
import type { DeliveryRouter } from 'src/delivery/delivery-router';
import type { SendRateLimiter } from 'src/delivery/send-rate.limiter';
import type { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import {
  MessageDeliveryService,
  SENDING_PLACE_WAIT_MS,
  type DeliveryJobControl,
  type DeliveryOutcome,
} from 'src/delivery/message-delivery.service';

type Run = (control: DeliveryJobControl) => Promise<DeliveryOutcome>;

/**
 * `deliverNow` around a scripted `deliver`: the runs themselves (reads, sends) are covered by
 * test/delivery.e2e-spec.ts; here, what a reply's own job does with each way a run can end.
 */
function service(aiConcurrency: number, runs: Run[]) {
  const enqueue = jest.fn<Promise<void>, [string, string, number?, string?]>(() =>
    Promise.resolve(),
  );
  const behaviour: BehaviourConfig = {
    aiDebounceMs: 0,
    botPauseOnHumanMinutes: 30,
    sendRatePerMerchant: 80,
    deliveryConcurrency: 20,
    aiConcurrency,
    aiDailyTokensPerMerchant: 0,
  };
  const unused = {} as never;
  const delivery = new MessageDeliveryService(
    unused,
    unused,
    unused,
    unused,
    unused,
    unused,
    unused,
    unused,
    { enqueue } as unknown as MessageDeliveryProducer,
    behaviour,
  );
  const deliver = jest
    .spyOn(delivery, 'deliver')
    .mockImplementation((_merchantId, _messageId, control) => {
      const run = runs.shift();
      if (!run) throw new Error('no run scripted');
      return run(control);
    });
  return { delivery, enqueue, deliver };
}

const sent: Run = () => Promise.resolve({ outcome: 'sent', parts: 1 });

describe('MessageDeliveryService.deliverNow', () => {
  it('sends without a delivery job when the run goes through', async () => {
    const { delivery, enqueue, deliver } = service(2, [sent]);
    await expect(delivery.deliverNow('m1', 'r1', 'c1')).resolves.toBe('sent');
    expect(deliver).toHaveBeenCalledTimes(1);
    expect(enqueue).not.toHaveBeenCalled();
  });

  it('hands a run that would be set aside to a delivery job due at the same time', async () => {
    const { delivery, enqueue } = service(2, [(control) => control.later(700, 'waiting')]);
    await expect(delivery.deliverNow('m1', 'r1', 'c1')).resolves.toBe('queued');
    expect(enqueue).toHaveBeenCalledWith('m1', 'r1', 700, 'c1');
  });

  it('hands a failed send to a delivery job after the first backoff, and a permanent failure to none', async () => {
    const transient = new DeliveryFailure('transient', 'provider_unavailable', '500');
    const { delivery, enqueue } = service(2, [
      () => Promise.reject(transient),
      () => Promise.reject(new UnrecoverableError('window_closed')),
    ]);
    await expect(delivery.deliverNow('m1', 'r1', 'c1')).resolves.toBe('queued');
    expect(enqueue).toHaveBeenCalledTimes(1);
    const [, id, delay] = enqueue.mock.calls[0];
    expect(id).toBe('r1');
    expect(delay).toBeGreaterThanOrEqual(1_600);
    expect(delay).toBeLessThanOrEqual(2_000);
    await expect(delivery.deliverNow('m1', 'r2', 'c1')).resolves.toBe('failed');
    expect(enqueue).toHaveBeenCalledTimes(1);
  });

  it('rejects when the hand-off itself fails, so that the reply job is retried', async () => {
    const { delivery, enqueue } = service(2, [() => Promise.reject(new Error('database away'))]);
    enqueue.mockRejectedValueOnce(new Error('Redis away'));
    await expect(delivery.deliverNow('m1', 'r1', 'c1')).rejects.toThrow('Redis away');
  });

  it('sends with at most half of the reply slots (AI_CONCURRENCY) at once; the next waits for a place, or goes to a job', async () => {
    jest.useFakeTimers();
    try {
      let release = () => undefined as void;
      const held: Run = () =>
        new Promise((resolve) => {
          const previous = release;
          release = () => {
            previous();
            resolve({ outcome: 'sent', parts: 1 });
          };
        });
      const { delivery, enqueue, deliver } = service(4, [held, held, held, held]);
      const first = delivery.deliverNow('m1', 'r1', 'c1');
      const second = delivery.deliverNow('m2', 'r2', 'c1');
      await jest.advanceTimersByTimeAsync(0);
      // Both places taken: the third waits, and gets the place the first gives back.
      const third = delivery.deliverNow('m3', 'r3', 'c1');
      await jest.advanceTimersByTimeAsync(SENDING_PLACE_WAIT_MS - 100);
      expect(deliver).toHaveBeenCalledTimes(2);
      release();
      await Promise.all([first, second]);
      await jest.advanceTimersByTimeAsync(0);
      expect(deliver).toHaveBeenCalledTimes(3);
      expect(enqueue).not.toHaveBeenCalled();
      // A fourth and a fifth while the third sends: the fourth gets the free place, the fifth
      // waits in vain and goes to a delivery job.
      const fourth = delivery.deliverNow('m4', 'r4', 'c1');
      const fifth = delivery.deliverNow('m5', 'r5', 'c1');
      await jest.advanceTimersByTimeAsync(SENDING_PLACE_WAIT_MS);
      await expect(fifth).resolves.toBe('queued');
      expect(enqueue).toHaveBeenCalledWith('m5', 'r5', 0, 'c1');
      release();
      await expect(Promise.all([third, fourth])).resolves.toEqual(['sent', 'sent']);
      expect(deliver).toHaveBeenCalledTimes(4);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('MessageDeliveryService.prepare', () => {
  function preparing(aiConcurrency: number, perMerchant: number) {
    const waiting = new Map<string, number>();
    const limiter = {
      tryAdmit: (merchantId: string) => {
        const count = waiting.get(merchantId) ?? 0;
        if (count >= perMerchant) return false;
        waiting.set(merchantId, count + 1);
        return true;
      },
      leave: (merchantId: string) => waiting.set(merchantId, (waiting.get(merchantId) ?? 1) - 1),
    };
    const channelFor = jest.fn<Promise<string>, [OutboundMessage, string | undefined]>(() =>
      Promise.resolve('manychat'),
    );
    const unused = {} as never;
    const delivery = new MessageDeliveryService(
      unused,
      { channelFor } as unknown as DeliveryRouter,
      unused,
      unused,
      limiter as unknown as SendRateLimiter,
      unused,
      unused,
      unused,
      unused,
      {
        aiDebounceMs: 0,
        botPauseOnHumanMinutes: 30,
        sendRatePerMerchant: 80,
        deliveryConcurrency: 20,
        aiConcurrency,
        aiDailyTokensPerMerchant: 0,
      },
    );
    return { delivery, channelFor, waiting };
  }

  const reply = (merchantId: string, meta: Record<string, unknown> = {}): OutboundMessage => ({
    id: '',
    merchantId,
    conversationId: 'c1',
    customerId: 'cu1',
    sender: 'bot',
    text: 'هلا بيك',
    attachments: [{ type: 'image', url: 'https://cdn.example/p.jpg' }],
    meta,
    channel: null,
    deliveryStatus: 'queued',
    lastCustomerMessageAt: new Date(),
    igsid: 'igsid-1',
    subscriberId: 'sub-1',
    merchantChannel: 'manychat',
    needsReauth: false,
    subscriberField: null,
    hasInstagramToken: false,
    standby: false,
    planned: false,
    sealedManychatKey: null,
  });

  it('works out the channel and the parts', async () => {
    const { delivery, waiting } = preparing(4, 1);
    const prepared = await delivery.prepare(reply('m1'));
    expect(prepared).toMatchObject({
      channel: 'manychat',
      items: [
        { kind: 'text', text: 'هلا بيك' },
        { kind: 'image', url: 'https://cdn.example/p.jpg' },
      ],
    });
    expect(prepared?.message.channel).toBe('manychat');
    expect(waiting.get('m1')).toBe(1);
    prepared?.release();
    prepared?.release();
    expect(waiting.get('m1')).toBe(0);
  });

  it('leaves a private reply to a comment, and a route it cannot decide, to the usual way', async () => {
    const { delivery, channelFor, waiting } = preparing(4, 1);
    await expect(delivery.prepare(reply('m1', { replyToCommentId: 'c-1' }))).resolves.toBeNull();
    expect(channelFor).not.toHaveBeenCalled();
    channelFor.mockRejectedValueOnce(new Error('subscriber_unknown'));
    await expect(delivery.prepare(reply('m1'))).resolves.toBeNull();
    expect(waiting.get('m1')).toBe(0);
    await expect(delivery.prepare(reply('m1'))).resolves.not.toBeNull();
  });

  it('holds a place until released: no more than the merchant’s share, nor half of AI_CONCURRENCY', async () => {
    const { delivery } = preparing(4, 1);
    const first = await delivery.prepare(reply('m1'));
    await expect(delivery.prepare(reply('m1'))).resolves.toBeNull();
    const second = await delivery.prepare(reply('m2'));
    expect(second).not.toBeNull();
    await expect(delivery.prepare(reply('m3'))).resolves.toBeNull();
    first?.release();
    await expect(delivery.prepare(reply('m3'))).resolves.not.toBeNull();
  });

  it('passes its places to the run that sends it, which gives each back once', async () => {
    const { delivery, waiting } = preparing(2, 1);
    const run = jest
      .spyOn(
        delivery as unknown as {
          deliverAdmitted: (...args: unknown[]) => Promise<DeliveryOutcome>;
        },
        'deliverAdmitted',
      )
      .mockResolvedValue({ outcome: 'sent', parts: 2 });
    const prepared = await delivery.prepare(reply('m1'));
    if (!prepared) throw new Error('not prepared');
    await expect(delivery.deliverPrepared(prepared, 'r1', ['p1', 'p2'])).resolves.toBe('sent');
    expect(run).toHaveBeenCalledWith('m1', 'r1', expect.anything(), {
      message: expect.objectContaining({ id: 'r1', channel: 'manychat' }) as unknown,
      rows: [
        expect.objectContaining({ id: 'p1', seq: 0, status: 'pending' }),
        expect.objectContaining({ id: 'p2', seq: 1, status: 'pending' }),
      ] as unknown,
    });
    prepared.release();
    expect(waiting.get('m1')).toBe(0);
    await expect(delivery.deliverPrepared(prepared, 'r1', ['p1', 'p2'])).rejects.toThrow(
      'sent once',
    );
    // The one reply slot (AI_CONCURRENCY 2) is free again.
    await expect(delivery.prepare(reply('m1'))).resolves.not.toBeNull();
  });
});

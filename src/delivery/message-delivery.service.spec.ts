import { UnrecoverableError } from 'bullmq';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import type { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import {
  MessageDeliveryService,
  type DeliveryJobControl,
  type DeliveryOutcome,
} from 'src/delivery/message-delivery.service';

type Run = (control: DeliveryJobControl) => Promise<DeliveryOutcome>;

/**
 * `deliverNow` around a scripted `deliver`: the runs themselves (reads, sends) are covered by
 * test/delivery.e2e-spec.ts; here, what a reply's own job does with each way a run can end.
 */
function service(aiConcurrency: number, runs: Run[]) {
  const enqueue = jest.fn<Promise<void>, [string, string, number?]>(() => Promise.resolve());
  const behaviour: BehaviourConfig = {
    aiDebounceMs: 0,
    botPauseOnHumanMinutes: 30,
    sendRatePerMerchant: 80,
    deliveryConcurrency: 20,
    aiConcurrency,
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
    await expect(delivery.deliverNow('m1', 'r1')).resolves.toBe('sent');
    expect(deliver).toHaveBeenCalledTimes(1);
    expect(enqueue).not.toHaveBeenCalled();
  });

  it('hands a run that would be set aside to a delivery job due at the same time', async () => {
    const { delivery, enqueue } = service(2, [(control) => control.later(700, 'waiting')]);
    await expect(delivery.deliverNow('m1', 'r1')).resolves.toBe('queued');
    expect(enqueue).toHaveBeenCalledWith('m1', 'r1', 700);
  });

  it('hands a failed send to a delivery job after the first backoff, and a permanent failure to none', async () => {
    const transient = new DeliveryFailure('transient', 'provider_unavailable', '500');
    const { delivery, enqueue } = service(2, [
      () => Promise.reject(transient),
      () => Promise.reject(new UnrecoverableError('window_closed')),
    ]);
    await expect(delivery.deliverNow('m1', 'r1')).resolves.toBe('queued');
    expect(enqueue).toHaveBeenCalledTimes(1);
    const [, id, delay] = enqueue.mock.calls[0];
    expect(id).toBe('r1');
    expect(delay).toBeGreaterThanOrEqual(1_600);
    expect(delay).toBeLessThanOrEqual(2_000);
    await expect(delivery.deliverNow('m1', 'r2')).resolves.toBe('failed');
    expect(enqueue).toHaveBeenCalledTimes(1);
  });

  it('rejects when the hand-off itself fails, so that the reply job is retried', async () => {
    const { delivery, enqueue } = service(2, [() => Promise.reject(new Error('database away'))]);
    enqueue.mockRejectedValueOnce(new Error('Redis away'));
    await expect(delivery.deliverNow('m1', 'r1')).rejects.toThrow('Redis away');
  });

  it('sends with at most half of the reply slots (AI_CONCURRENCY) at once; the next goes to a job at once', async () => {
    let release = () => undefined as void;
    const held: Run = () =>
      new Promise((resolve) => {
        const previous = release;
        release = () => {
          previous();
          resolve({ outcome: 'sent', parts: 1 });
        };
      });
    const { delivery, enqueue, deliver } = service(4, [held, held, sent]);
    const first = delivery.deliverNow('m1', 'r1');
    const second = delivery.deliverNow('m2', 'r2');
    await delivery.deliverNow('m3', 'r3');
    expect(enqueue).toHaveBeenCalledWith('m3', 'r3', 0);
    expect(deliver).toHaveBeenCalledTimes(2);
    release();
    await Promise.all([first, second]);
    await delivery.deliverNow('m4', 'r4');
    expect(deliver).toHaveBeenCalledTimes(3);
    expect(enqueue).toHaveBeenCalledTimes(1);
  });
});

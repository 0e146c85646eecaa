import { Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import { MessageDeliveryProcessor } from 'src/delivery/message-delivery.processor';
import {
  MESSAGE_NOT_FOUND,
  type DeliveryOutcome,
  type MessageDeliveryService,
} from 'src/delivery/message-delivery.service';
import type { AiResponseJob, MessageDeliveryJob } from 'src/queue/jobs';

describe('MessageDeliveryProcessor.onFailed', () => {
  const giveUp = jest.fn<Promise<void>, [string, Error]>(() => Promise.resolve());
  const processor = new MessageDeliveryProcessor(
    { giveUp } as unknown as MessageDeliveryService,
    {} as BehaviourConfig,
    {} as Queue<AiResponseJob>,
  );
  const job = (attemptsMade: number) =>
    ({
      id: 'r1',
      data: { merchantId: 'm1', messageId: 'r1' },
      attemptsMade,
      opts: { attempts: 20 },
    }) as unknown as Job<MessageDeliveryJob>;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'warn', 'error']);
  });
  beforeEach(() => giveUp.mockClear());

  it('gives the reply up once its last attempt fails at the provider', async () => {
    const refused = new DeliveryFailure('transient', 'provider_unavailable', 'Graph API error 2');
    await processor.onFailed(job(20), refused);
    expect(giveUp).toHaveBeenCalledWith('r1', refused);
  });

  it('keeps the reply owed when storage was away at its last attempt', async () => {
    await processor.onFailed(job(20), Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(giveUp).not.toHaveBeenCalled();
  });

  it('gives nothing up while attempts are left', async () => {
    await processor.onFailed(job(5), new Error('Graph API error 2'));
    expect(giveUp).not.toHaveBeenCalled();
  });
});

describe('MessageDeliveryProcessor.process', () => {
  function processing(outcome: DeliveryOutcome) {
    const add = jest.fn(() => Promise.resolve());
    const processor = new MessageDeliveryProcessor(
      { deliver: () => Promise.resolve(outcome) } as unknown as MessageDeliveryService,
      {} as BehaviourConfig,
      { add } as unknown as Queue<AiResponseJob>,
    );
    const run = (data: MessageDeliveryJob) =>
      processor.process({ id: data.messageId, data } as unknown as Job<MessageDeliveryJob>);
    return { add, run };
  }

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'warn', 'error']);
  });

  it("has the conversation's turn read again when a reply its own job handed over is gone", async () => {
    const { add, run } = processing({ outcome: 'skipped', reason: MESSAGE_NOT_FOUND });
    await run({ merchantId: 'm1', messageId: 'r1', conversationId: 'c1' });
    expect(add).toHaveBeenCalledWith(
      'reply',
      { merchantId: 'm1', conversationId: 'c1' },
      { jobId: 'lost-r1' },
    );
  });

  it('does nothing more for a message gone without its conversation, or one sent or skipped otherwise', async () => {
    const gone = processing({ outcome: 'skipped', reason: MESSAGE_NOT_FOUND });
    await gone.run({ merchantId: 'm1', messageId: 'r1' });
    expect(gone.add).not.toHaveBeenCalled();
    for (const outcome of [
      { outcome: 'sent', parts: 1 },
      { outcome: 'skipped', reason: 'already sent' },
    ] as DeliveryOutcome[]) {
      const other = processing(outcome);
      await other.run({ merchantId: 'm1', messageId: 'r1', conversationId: 'c1' });
      expect(other.add).not.toHaveBeenCalled();
    }
  });
});

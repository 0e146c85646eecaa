import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { BehaviourConfig } from 'src/config/behaviour.config';
import { DeliveryFailure } from 'src/delivery/delivery-failure';
import { MessageDeliveryProcessor } from 'src/delivery/message-delivery.processor';
import type { MessageDeliveryService } from 'src/delivery/message-delivery.service';
import type { MessageDeliveryJob } from 'src/queue/jobs';

describe('MessageDeliveryProcessor.onFailed', () => {
  const giveUp = jest.fn<Promise<void>, [string, Error]>(() => Promise.resolve());
  const processor = new MessageDeliveryProcessor(
    { giveUp } as unknown as MessageDeliveryService,
    {} as BehaviourConfig,
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

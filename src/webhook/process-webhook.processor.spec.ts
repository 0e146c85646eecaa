import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { ProcessWebhookProcessor } from 'src/webhook/process-webhook.processor';
import type { WebhookIngestionService } from 'src/webhook/webhook-ingestion.service';

describe('ProcessWebhookProcessor.onFailed', () => {
  const markFailed = jest.fn<Promise<void>, [string, string]>(() => Promise.resolve());
  const processor = new ProcessWebhookProcessor({
    markFailed,
    processMany: () => Promise.resolve([]),
  } as unknown as WebhookIngestionService);
  const job = (attemptsMade: number) =>
    ({
      id: 'e1',
      data: { webhookEventId: 'e1' },
      attemptsMade,
      opts: { attempts: 8 },
    }) as unknown as Job<ProcessWebhookJob>;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'warn', 'error']);
  });
  beforeEach(() => markFailed.mockClear());

  it('records the event failed once its last attempt fails on the event itself', async () => {
    await processor.onFailed(job(8), new SyntaxError('Unexpected end of JSON input'));
    expect(markFailed).toHaveBeenCalledWith('e1', 'Unexpected end of JSON input');
  });

  it('leaves the event to the outbox sweep when storage was away at its last attempt', async () => {
    const away = Object.assign(new Error('terminating connection'), { code: '57P01' });
    await processor.onFailed(job(8), away);
    await processor.onFailed(job(8), new Error('Connection terminated unexpectedly'));
    expect(markFailed).not.toHaveBeenCalled();
  });

  it('records nothing while attempts are left', async () => {
    await processor.onFailed(job(3), new SyntaxError('Unexpected end of JSON input'));
    expect(markFailed).not.toHaveBeenCalled();
  });
});

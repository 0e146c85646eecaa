import { storage } from 'nestjs-pino/storage';
import { startApp } from 'test/utils/app';
import { captureOutput } from 'test/utils/output';

/**
 * Whether the request logger's AsyncLocalStorage has bound a request yet. The first binding
 * switches on Node's promise hooks for the rest of the process, a cost on every promise after.
 * (`enabled` is Node 20's own field of the class.)
 */
function requestContextBound(): boolean {
  const { enabled } = storage as unknown as { enabled?: unknown };
  if (typeof enabled !== 'boolean') throw new Error('this Node.js keeps no `enabled` flag');
  return enabled;
}

// One file, one module registry: the two cases run in order, the worker's first.
describe('request logging (e2e)', () => {
  it('a worker-only process answers probes, scrapes and stray requests without binding a request context', async () => {
    const worker = await startApp({ APP_ROLE: 'worker' });
    try {
      expect((await fetch(`${worker.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${worker.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${worker.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${worker.url}/webhooks/instagram`, { method: 'POST' })).status).toBe(
        404,
      );
      expect(requestContextBound()).toBe(false);
    } finally {
      await worker.close();
    }
  });

  it('the API logs each request with its id, binds a context for API calls only, and leaves probes and scrapes out', async () => {
    const api = await startApp({ APP_ROLE: 'api', LOG_LEVEL: 'info' });
    const output = captureOutput();
    try {
      expect((await fetch(`${api.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${api.url}/metrics`)).status).toBe(200);
      expect(requestContextBound()).toBe(false);
      const forged = await fetch(`${api.url}/webhooks/instagram`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
          'x-request-id': 'trace-logging-1',
        },
        body: JSON.stringify({ object: 'instagram', entry: [] }),
      });
      expect(forged.status).toBe(401);
      const unknownFlow = await fetch(
        `${api.url}/webhooks/manychat/00000000-0000-4000-8000-000000000000`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-radd-secret': 'not-a-secret',
            'x-request-id': 'trace-logging-3',
          },
          body: JSON.stringify({ subscriber_id: '1', text: 'hi' }),
        },
      );
      expect(unknownFlow.status).toBe(401);
      // A webhook POST gets its line from a hook, without a request context.
      expect(requestContextBound()).toBe(false);
      const anonymous = await fetch(`${api.url}/api/merchants`, {
        headers: { 'x-request-id': 'trace-logging-2' },
      });
      expect(anonymous.status).toBe(401);
      expect(requestContextBound()).toBe(true);
    } finally {
      output.stop();
      await api.close();
    }
    const lines = output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { req?: { id?: string; url?: string }; msg?: string });
    const completed = lines.filter((line) => line.msg === 'request completed');
    expect(completed.map((line) => [line.req?.url, line.req?.id])).toEqual([
      ['/webhooks/instagram', 'trace-logging-1'],
      ['/webhooks/manychat/00000000-0000-4000-8000-000000000000', 'trace-logging-3'],
      ['/api/merchants', 'trace-logging-2'],
    ]);
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIConnectionError } from 'openai';
import {
  AnswerTooLargeError,
  MAX_ANSWER_BYTES,
  httpRequest,
  leanFetch,
} from 'src/common/http-request';
import { requestMayHaveArrived } from 'src/delivery/delivery-failure';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('httpRequest and leanFetch', () => {
  let server: Server;
  let origin: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (req.url === '/hang') return;
        if (req.url === '/flood') {
          // Streams past the limit, slowly enough that a reader that waits for the end would hang.
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(256 * 1024, 0x61);
          const pump = () => {
            if (res.destroyed) return;
            res.write(chunk);
            setTimeout(pump, 5);
          };
          pump();
          return;
        }
        if (req.url === '/empty') {
          res.writeHead(204).end();
          return;
        }
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.writeHead(req.url === '/busy' ? 429 : 200, {
          'content-type': 'application/json',
          'retry-after': '7',
        });
        res.end(JSON.stringify({ echoed: Buffer.concat(chunks).toString() }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('sends the method, headers and body, and returns status, headers and text', async () => {
    const answer = await httpRequest(`${origin}/busy`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: '{"a":1}',
      timeoutMs: 2_000,
    });
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(JSON.parse(answer.text)).toEqual({ echoed: '{"a":1}' });
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/busy',
        body: '{"a":1}',
        headers: expect.objectContaining({ authorization: 'Bearer k' }) as unknown,
      }),
    ]);
  });

  it('stops reading an answer larger than MAX_ANSWER_BYTES, and says so', async () => {
    const flood = await httpRequest(`${origin}/flood`, { timeoutMs: 10_000 }).catch(
      (error: unknown) => error,
    );
    expect(flood).toBeInstanceOf(AnswerTooLargeError);
    expect(requestMayHaveArrived(flood)).toBe(true);
    // Answers below the limit are whole.
    const big = 'x'.repeat(MAX_ANSWER_BYTES / 2);
    const answer = await httpRequest(`${origin}/echo`, { method: 'POST', body: big });
    expect(JSON.parse(answer.text)).toEqual({ echoed: big });
  });

  it('rejects a refused connection as never sent, a timeout as possibly arrived', async () => {
    const refused = await httpRequest('http://127.0.0.1:9/x', { timeoutMs: 2_000 }).catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(requestMayHaveArrived(refused)).toBe(false);

    const timedOut = await httpRequest(`${origin}/hang`, { timeoutMs: 100 }).catch(
      (error: unknown) => error,
    );
    expect(timedOut).toMatchObject({ name: 'TimeoutError' });
    expect(requestMayHaveArrived(timedOut)).toBe(true);
  });

  it('leanFetch answers as fetch does, a bodiless status included', async () => {
    const answer = await leanFetch(`${origin}/ok`, {
      method: 'post',
      headers: new Headers({ 'x-one': '1' }),
      body: 'hello',
    });
    expect(answer.ok).toBe(true);
    expect(await answer.json()).toEqual({ echoed: 'hello' });
    expect(seen[0]).toMatchObject({ method: 'POST', headers: { 'x-one': '1' } });

    const empty = await leanFetch(`${origin}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');

    await expect(leanFetch(`${origin}/ok`, { body: new Uint8Array([1]) })).rejects.toThrow(
      /text bodies only/,
    );
  });

  it('lets the OpenAI SDK keep its answers, timeouts and connection errors', async () => {
    const model = (baseURL: string, fetch: typeof leanFetch = leanFetch) =>
      new OpenAI({ apiKey: 'k', baseURL, fetch, maxRetries: 0, timeout: 200 });

    const answered = await model(origin).chat.completions.create({ model: 'm', messages: [] });
    expect(answered).toMatchObject({ echoed: expect.stringContaining('"model":"m"') as unknown });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/chat/completions',
      headers: { authorization: 'Bearer k' },
    });

    // The SDK's own timeout aborts the call (an APIConnectionTimeoutError in a plain Node
    // process; jest's sandbox hides the abort's name, and the SDK then says APIConnectionError).
    const hanging = model(origin, (_url, init) => leanFetch(`${origin}/hang`, init));
    const started = Date.now();
    await expect(
      hanging.chat.completions.create({ model: 'm', messages: [] }),
    ).rejects.toBeInstanceOf(APIConnectionError);
    expect(Date.now() - started).toBeLessThan(2_000);

    const refused = model('http://127.0.0.1:9/v1');
    await expect(
      refused.chat.completions.create({ model: 'm', messages: [] }),
    ).rejects.toBeInstanceOf(APIConnectionError);
  });
});

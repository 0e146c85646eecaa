import { FakeHttpServer } from 'test/utils/fake-http-server';
import { FakeGraph } from 'test/utils/fake-graph';

describe('FakeHttpServer', () => {
  let fake: FakeHttpServer;
  beforeEach(async () => {
    fake = await FakeHttpServer.start();
  });
  afterEach(() => fake.close());

  it('listens on loopback, answers by route and records the raw and parsed body', async () => {
    fake.on('POST', '/v25.0/me/messages', { body: { recipient_id: '5678', message_id: 'mid.1' } });
    const res = await fetch(`${fake.url}/v25.0/me/messages?access_token=t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"هلو"}',
    });
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await res.json()).toEqual({ recipient_id: '5678', message_id: 'mid.1' });
    const [request] = fake.received('POST', '/v25.0/me/messages');
    expect(request.query.get('access_token')).toBe('t');
    expect(request.json).toEqual({ text: 'هلو' });
    expect(request.rawBody.toString('utf8')).toBe('{"text":"هلو"}');
  });

  it('lets a later route override an earlier one, and answers 404 for unknown routes', async () => {
    fake.on('GET', /^\/fb\//, { status: 200, body: { status: 'success' } });
    fake.on('GET', '/fb/page/getInfo', () => ({ status: 500, body: { status: 'error' } }));
    expect((await fetch(`${fake.url}/fb/page/getInfo`)).status).toBe(500);
    expect((await fetch(`${fake.url}/fb/other`)).status).toBe(200);
    expect((await fetch(`${fake.url}/nothing`)).status).toBe(404);
    expect(fake.requests).toHaveLength(3);
  });

  it('waits for requests that arrive later, and gives up after its timeout', async () => {
    setTimeout(() => void fetch(`${fake.url}/late`), 50);
    const [late] = await fake.waitFor(1, (request) => request.path === '/late', 2_000);
    expect(late.method).toBe('GET');
    await expect(fake.waitFor(2, () => true, 100)).rejects.toThrow(
      /expected 2 matching requests, got 1/,
    );
  });

  it('can hang so that client timeouts can be tested', async () => {
    fake.on('POST', '/chat/completions', { hang: true });
    const attempt = fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(200),
    });
    await expect(attempt).rejects.toThrow();
  });
});

describe('FakeGraph', () => {
  it('refuses a second private reply to a comment as Meta does (100/2534025), and a tag with another messaging_type', async () => {
    const graph = await FakeGraph.start();
    try {
      const send = (body: Record<string, unknown>) =>
        fetch(`${graph.url}/v25.0/me/messages`, {
          method: 'POST',
          headers: { authorization: 'Bearer token', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const reply = { recipient: { comment_id: 'c-1' }, message: { text: 'هلا' } };
      expect((await send(reply)).status).toBe(200);
      const again = await send(reply);
      expect(again.status).toBe(400);
      expect(await again.json()).toMatchObject({ error: { code: 100, error_subcode: 2534025 } });
      const tagged = { recipient: { id: '42' }, tag: 'HUMAN_AGENT', message: { text: 'x' } };
      expect((await send(tagged)).status).toBe(200);
      expect((await send({ ...tagged, messaging_type: 'RESPONSE' })).status).toBe(400);
    } finally {
      await graph.close();
    }
  });
});

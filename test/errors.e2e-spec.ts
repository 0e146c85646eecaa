import { startApp, type TestApp } from 'test/utils/app';

describe('error answers (e2e)', () => {
  let radd: TestApp;
  beforeAll(async () => {
    radd = await startApp();
  });
  afterAll(() => radd.close());

  it('answers an unknown route 404 with the common shape', async () => {
    const res = await fetch(`${radd.url}/no/such/route`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /no/such/route',
    });
  });

  it('answers a body that is not JSON 400 with the common shape', async () => {
    const res = await fetch(`${radd.url}/health/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"truncated":',
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(400);
    expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('answers a body over 1 MiB 413 with the common shape', async () => {
    const res = await fetch(`${radd.url}/health/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('refuses prototype poisoning with 400', async () => {
    const res = await fetch(`${radd.url}/health/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__":{"admin":true}}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });
});

import { isWebhookPost } from 'src/webhook/webhook-routes';

describe('isWebhookPost', () => {
  it.each([
    ['POST', '/webhooks/instagram', true],
    ['POST', '/webhooks/instagram?x=1', true],
    ['POST', '/webhooks/manychat/8d0b6a58-3c0e-4c59-9b1e-2f4f0f4a1c11', true],
    ['GET', '/webhooks/instagram', false],
    ['POST', '/webhooks/manychat', false],
    ['POST', '/webhooks/instagram/extra', false],
    ['POST', '/api/merchants', false],
  ])('%s %s: %s', (method, url, expected) => {
    expect(isWebhookPost({ method, url })).toBe(expected);
  });
});

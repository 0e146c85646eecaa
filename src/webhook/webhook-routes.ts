import { RequestMethod } from '@nestjs/common';

export const INSTAGRAM_WEBHOOK_PATH = '/webhooks/instagram';
export const MANYCHAT_WEBHOOK_PATH = '/webhooks/manychat';

/**
 * The webhook POSTs, as Nest names routes: their handlers authenticate the raw bytes (or a
 * secret) before anything is parsed, and the request logger's middleware leaves them to a hook
 * (logRequestsByHook). `isWebhookPost` picks the same requests.
 */
export const WEBHOOK_POST_ROUTES: Array<{ path: string; method: RequestMethod }> = [
  { path: INSTAGRAM_WEBHOOK_PATH.slice(1), method: RequestMethod.POST },
  { path: `${MANYCHAT_WEBHOOK_PATH.slice(1)}/*path`, method: RequestMethod.POST },
];

/** Whether a request is a POST to one of WEBHOOK_POST_ROUTES. */
export function isWebhookPost(request: { method: string; url?: string }): boolean {
  if (request.method !== 'POST') return false;
  const path = (request.url ?? '').split('?', 1)[0];
  return path === INSTAGRAM_WEBHOOK_PATH || path.startsWith(`${MANYCHAT_WEBHOOK_PATH}/`);
}

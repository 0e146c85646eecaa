import secureJson from 'secure-json-parse';
import { storableText } from 'src/common/storable-text';

/** What a merchant's ManyChat flow posts to Radd (INTERFACE §3.2). */
export interface ManyChatInbound {
  subscriberId: string;
  igId?: string;
  igUsername?: string;
  text: string;
}

export const MANYCHAT_TEXT_MAX = 4_000;

/** Long numeric ids lose digits in JSON.parse: quote them in the raw text first. */
function quoteIds(raw: string): string {
  return raw.replace(/("(?:subscriber_id|ig_id)"\s*:\s*)(-?\d+)(?=\s*[,}])/g, '$1"$2"');
}

function id(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{1,32}$/.test(value.trim())) return value.trim();
  return undefined;
}

/** Parses and checks a ManyChat inbound body; returns the problem as a sentence when it is not one. */
export function parseManyChatInbound(rawBody: Buffer): ManyChatInbound | string {
  let body: unknown;
  try {
    body = secureJson.parse(quoteIds(rawBody.toString('utf8')), undefined, {
      protoAction: 'error',
      constructorAction: 'error',
    });
  } catch {
    return 'the body is not valid JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'the body must be a JSON object';
  }
  const fields = body as Record<string, unknown>;
  const subscriberId = id(fields.subscriber_id);
  if (!subscriberId) return 'subscriber_id must be a numeric id (string or number)';
  if (
    fields.ig_id !== undefined &&
    fields.ig_id !== null &&
    fields.ig_id !== '' &&
    !id(fields.ig_id)
  ) {
    return 'ig_id must be a numeric id (string or number) when given';
  }
  const text = typeof fields.text === 'string' ? storableText(fields.text) : undefined;
  if (text === undefined || text.trim() === '') {
    return 'text must be a non-empty string';
  }
  if (text.length > MANYCHAT_TEXT_MAX) {
    return `text must be at most ${MANYCHAT_TEXT_MAX} characters`;
  }
  if (
    fields.ig_username !== undefined &&
    fields.ig_username !== null &&
    typeof fields.ig_username !== 'string'
  ) {
    return 'ig_username must be a string when given';
  }
  const username = typeof fields.ig_username === 'string' ? storableText(fields.ig_username) : '';
  return {
    subscriberId,
    igId: id(fields.ig_id),
    igUsername: username === '' ? undefined : username,
    text,
  };
}

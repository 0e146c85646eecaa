import { Inject, Injectable } from '@nestjs/common';
import { httpRequest, retryAfterMs, type HttpAnswer } from 'src/common/http-request';
import { metaConfig, type MetaConfig } from 'src/config/meta.config';

/** An error answer of the Graph API (`{"error": {...}}`, meta-instagram spec §5.3). */
export class GraphApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    readonly subcode: number | undefined,
    message: string,
    /** How long Meta asked us to wait (`Retry-After`, `estimated_time_to_regain_access`). */
    readonly retryAfterMs?: number,
  ) {
    super(`Graph API error ${code ?? status}${subcode ? `/${subcode}` : ''}: ${message}`);
    this.name = 'GraphApiError';
  }
}

export interface InstagramUserProfile {
  name?: string;
  username?: string;
  profilePic?: string;
}

/** Who a Send API message goes to: a customer (IGSID), or the author of a comment (private reply). */
export type SendApiRecipient = { id: string } | { comment_id: string };

export interface SendApiMessage {
  text?: string;
  attachment?: { type: 'image'; payload: { url: string } };
}

/** The bodies of `POST /{version}/me/messages` that Radd sends (meta-instagram spec §5.2). */
export type SendApiRequest =
  | {
      recipient: SendApiRecipient;
      messaging_type?: 'RESPONSE' | 'MESSAGE_TAG';
      tag?: 'HUMAN_AGENT';
      message: SendApiMessage;
    }
  | { recipient: { id: string }; sender_action: 'typing_on' | 'typing_off' | 'mark_seen' };

export interface SendApiResult {
  recipientId?: string;
  /** The id of the sent message; its echo carries the same id as `mid`. */
  messageId?: string;
}

const PROFILE_TIMEOUT_MS = 5_000;

/**
 * The Graph API as Radd uses it. Instagram-Login tokens (they start with `IG`) go to
 * INSTAGRAM_API_BASE_URL, Page tokens to GRAPH_API_BASE_URL; every URL carries GRAPH_API_VERSION.
 * The token travels in the Authorization header, never in a URL.
 */
@Injectable()
export class InstagramGraphClient {
  constructor(@Inject(metaConfig.KEY) private readonly config: MetaConfig) {}

  baseUrlFor(token: string): string {
    const base = token.startsWith('IG')
      ? this.config.instagramApiBaseUrl
      : this.config.graphApiBaseUrl;
    return `${base}/${this.config.graphApiVersion}`;
  }

  /** Name, username and picture of a customer (needs the customer's consent: error 230 without). */
  async userProfile(token: string, igsid: string): Promise<InstagramUserProfile> {
    const url = new URL(`${this.baseUrlFor(token)}/${encodeURIComponent(igsid)}`);
    url.searchParams.set('fields', 'name,username,profile_pic');
    const response = await httpRequest(url, {
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: PROFILE_TIMEOUT_MS,
    });
    const body = readJson(response);
    throwIfError(response, body);
    const profile = body as { name?: unknown; username?: unknown; profile_pic?: unknown };
    return {
      name: typeof profile.name === 'string' ? profile.name : undefined,
      username: typeof profile.username === 'string' ? profile.username : undefined,
      profilePic: typeof profile.profile_pic === 'string' ? profile.profile_pic : undefined,
    };
  }

  /**
   * One Send API call (a message or a sender action). Throws GraphApiError for an error answer;
   * a network failure or timeout is thrown as the HTTP client threw it (the outcome is then not
   * known).
   */
  async send(token: string, request: SendApiRequest, timeoutMs: number): Promise<SendApiResult> {
    const response = await httpRequest(`${this.baseUrlFor(token)}/me/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(request),
      timeoutMs,
    });
    const body = readJson(response);
    throwIfError(response, body);
    const result = body as { recipient_id?: unknown; message_id?: unknown };
    return {
      recipientId: typeof result.recipient_id === 'string' ? result.recipient_id : undefined,
      messageId: typeof result.message_id === 'string' ? result.message_id : undefined,
    };
  }
}

function readJson(response: HttpAnswer): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch {
    return { error: { message: response.text.slice(0, 200) || `HTTP ${response.status}` } };
  }
}

/** Meta reports errors in the body, usually with a 400, sometimes with a 200. */
function throwIfError(response: HttpAnswer, body: unknown): void {
  const error = (
    body as { error?: { code?: unknown; error_subcode?: unknown; message?: unknown } } | null
  )?.error;
  if (!error && response.status < 400) return;
  throw new GraphApiError(
    response.status,
    typeof error?.code === 'number' ? error.code : undefined,
    typeof error?.error_subcode === 'number' ? error.error_subcode : undefined,
    typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`,
    waitAskedFor(response.headers),
  );
}

/**
 * The longest wait Meta asked for: `Retry-After` (seconds or a date), or the
 * `estimated_time_to_regain_access` (minutes) of `X-Business-Use-Case-Usage` (§7).
 */
export function waitAskedFor(headers: Headers, now = Date.now()): number | undefined {
  const waits: number[] = [];
  const retryAfter = retryAfterMs(headers.get('retry-after'), now);
  if (retryAfter !== undefined) waits.push(retryAfter);
  const usage = headers.get('x-business-use-case-usage');
  if (usage) {
    try {
      const parsed = JSON.parse(usage) as Record<string, unknown>;
      for (const entries of Object.values(parsed)) {
        if (!Array.isArray(entries)) continue;
        for (const entry of entries as Array<{ estimated_time_to_regain_access?: unknown }>) {
          const minutes = entry?.estimated_time_to_regain_access;
          if (typeof minutes === 'number' && minutes > 0) waits.push(minutes * 60_000);
        }
      }
    } catch {
      // A malformed usage header says nothing we can use.
    }
  }
  return waits.length > 0 ? Math.max(...waits) : undefined;
}

import { Inject, Injectable } from '@nestjs/common';
import { httpRequest, retryAfterMs } from 'src/common/http-request';
import { manychatConfig, type ManyChatConfig } from 'src/config/manychat.config';

/** At most this many messages in one `content` (manychat-openai spec A.4). */
export const MANYCHAT_MAX_MESSAGES = 10;

/** A failure answer of ManyChat: HTTP 400, or HTTP 2xx with `status: "error"` (spec A.3). */
export class ManyChatApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
    readonly retryAfterMs?: number,
    /** The answer was not JSON (a proxy's page, a cut body): it says nothing about the send. */
    readonly unreadable = false,
  ) {
    super(`ManyChat error ${code ?? status}: ${message}`);
    this.name = 'ManyChatApiError';
  }
}

/** A message of Dynamic Block v2 content that Instagram accepts. */
export type ManyChatMessage = { type: 'text'; text: string } | { type: 'image'; url: string };

export interface ManyChatSubscriber {
  id: string;
  igId?: string;
}

const LOOKUP_TIMEOUT_MS = 5_000;
const DIGITS = /^\d{1,25}$/;

/**
 * ManyChat's public API (MANYCHAT_BASE_URL, `Authorization: Bearer <key>`). Ids stay strings: an
 * id that must travel as a JSON integer is written from its digits, never through a Number.
 */
@Injectable()
export class ManyChatClient {
  constructor(@Inject(manychatConfig.KEY) private readonly config: ManyChatConfig) {}

  /** `POST /fb/sending/sendContent` with Instagram content; resolves when ManyChat accepted it. */
  async sendContent(
    apiKey: string,
    subscriberId: string,
    messages: ManyChatMessage[],
    messageTag: string | undefined,
    timeoutMs: number,
  ): Promise<void> {
    if (!DIGITS.test(subscriberId)) {
      throw new ManyChatApiError(400, undefined, 'subscriber id is not a number');
    }
    const rest = {
      data: {
        version: 'v2',
        content: { type: 'instagram', messages, actions: [], quick_replies: [] },
      },
      ...(messageTag ? { message_tag: messageTag } : {}),
    };
    const body = `{"subscriber_id":${subscriberId},${JSON.stringify(rest).slice(1)}`;
    await this.request(apiKey, 'POST', '/fb/sending/sendContent', body, timeoutMs);
  }

  /** `GET /fb/subscriber/findByCustomField`: contacts whose Text/Number field holds `value`. */
  async findByCustomField(
    apiKey: string,
    fieldId: string,
    value: string,
  ): Promise<ManyChatSubscriber[]> {
    const query = new URLSearchParams({ field_id: fieldId, field_value: value });
    const answer = await this.request(
      apiKey,
      'GET',
      `/fb/subscriber/findByCustomField?${query.toString()}`,
      undefined,
      LOOKUP_TIMEOUT_MS,
    );
    const data = (answer as { data?: unknown }).data;
    const found = Array.isArray(data) ? data : data ? [data] : [];
    return found
      .map((entry) => entry as { id?: unknown; ig_id?: unknown })
      .filter((entry) => typeof entry.id === 'string' || typeof entry.id === 'number')
      .map((entry) => ({
        id: String(entry.id),
        igId:
          typeof entry.ig_id === 'string' || typeof entry.ig_id === 'number'
            ? String(entry.ig_id)
            : undefined,
      }));
  }

  private async request(
    apiKey: string,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<unknown> {
    const response = await httpRequest(`${this.config.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
      timeoutMs,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.text) as unknown;
    } catch {
      parsed = undefined;
    }
    const answer = (parsed ?? {}) as {
      status?: unknown;
      message?: unknown;
      code?: unknown;
      details?: { messages?: Array<{ message?: unknown }> };
    };
    if (response.status < 300 && answer.status === 'success') return parsed;
    const details = (answer.details?.messages ?? [])
      .map((entry) => entry.message)
      .filter((message): message is string => typeof message === 'string');
    const message =
      [typeof answer.message === 'string' ? answer.message : undefined, ...details]
        .filter(Boolean)
        .join('; ') || (parsed === undefined ? 'answer is not JSON' : `HTTP ${response.status}`);
    throw new ManyChatApiError(
      response.status,
      typeof answer.code === 'number' ? answer.code : undefined,
      message.slice(0, 300),
      retryAfterMs(response.headers.get('retry-after')),
      parsed === undefined,
    );
  }
}

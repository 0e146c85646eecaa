import { Inject, Injectable } from '@nestjs/common';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { MODEL_ANSWER_SCHEMA } from 'src/ai/model-answer';
import { leanFetch, retryAfterMs } from 'src/common/http-request';
import { openaiConfig, type OpenAiConfig } from 'src/config/openai.config';

export interface ModelCompletion {
  content: string | null;
  /** The model's refusal to answer (its safety system), when it refused. */
  refusal: string | null;
  /** `stop`; `length` for an answer cut at the token limit; `content_filter` for one withheld. */
  finishReason: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
}

/** Tokens an answer may take (it is a short JSON object). */
const ANSWER_TOKENS = 700;

/**
 * How the answer's length is bounded (manychat-openai B.3, B.7): OpenAI reads
 * `max_completion_tokens` (reasoning models refuse `max_tokens`); self-hosted servers mostly read
 * only `max_tokens`.
 */
export function answerLimit(
  baseUrl: string | undefined,
): { max_completion_tokens: number } | { max_tokens: number } {
  // No OPENAI_BASE_URL: the SDK's default, OpenAI's own API.
  let host = 'api.openai.com';
  if (baseUrl !== undefined) {
    try {
      host = new URL(baseUrl).hostname;
    } catch {
      host = '';
    }
  }
  return host === 'api.openai.com'
    ? { max_completion_tokens: ANSWER_TOKENS }
    : { max_tokens: ANSWER_TOKENS };
}

/**
 * The chat model behind OPENAI_BASE_URL (OpenAI or any compatible server), asked for the structured
 * answer of INTERFACE §5. The SDK's own retries are off: the caller owns the retry budget. Its
 * calls go through undici's `request` (`leanFetch`), a fraction of what `fetch` costs a call.
 */
@Injectable()
export class OpenAiClient {
  private readonly client: OpenAI | null;
  private readonly limit: ReturnType<typeof answerLimit>;

  constructor(@Inject(openaiConfig.KEY) private readonly config: OpenAiConfig) {
    this.limit = answerLimit(config.baseUrl);
    this.client = config.apiKey
      ? new OpenAI({
          apiKey: config.apiKey,
          baseURL: config.baseUrl,
          timeout: config.timeoutMs,
          maxRetries: 0,
          fetch: leanFetch,
        })
      : null;
  }

  /** Whether a model is configured (else Radd answers with its offline replier). */
  get enabled(): boolean {
    return this.client !== null;
  }

  get model(): string {
    return this.config.model;
  }

  /** One call's limit (AI_TIMEOUT_MS). */
  get timeoutMs(): number {
    return this.config.timeoutMs;
  }

  async complete(
    messages: ChatCompletionMessageParam[],
    timeoutMs: number,
  ): Promise<ModelCompletion> {
    if (!this.client) throw new Error('no model is configured');
    const started = Date.now();
    const completion = await this.client.chat.completions.create(
      {
        model: this.config.model,
        messages,
        temperature: 0.3,
        ...this.limit,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'radd_reply',
            strict: true,
            schema: MODEL_ANSWER_SCHEMA,
          },
        },
      },
      { timeout: timeoutMs, maxRetries: 0 },
    );
    const choice = completion.choices[0];
    return {
      content: choice?.message?.content ?? null,
      refusal: choice?.message?.refusal ?? null,
      finishReason: choice?.finish_reason ?? null,
      model: completion.model,
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      latencyMs: Date.now() - started,
    };
  }
}

/**
 * Errors worth another attempt: timeouts, lost connections, 408/409/429 and 5xx, but not a 429
 * for a spent quota (`insufficient_quota`: only billing ends it).
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError) {
    const status: number = typeof error.status === 'number' ? error.status : 0;
    if (
      status === 429 &&
      (error.code === 'insufficient_quota' || error.type === 'insufficient_quota')
    ) {
      return false;
    }
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }
  return false;
}

/** The SDK's own ceiling on a server-given wait (manychat-openai B.5): longer ones are not waited. */
const MAX_ASKED_WAIT_MS = 60_000;

/**
 * How long to wait before attempt `attempt + 1`: 0.5 s, 1 s, 2 s … each at a random 75-100% (turns
 * failed together by one outage do not come back in step), or longer when the server said how
 * long to wait (`retry-after-ms`, else `retry-after` in seconds or as a date), up to 60 s.
 */
export function retryWaitMs(error: unknown, attempt: number, now = Date.now()): number {
  const backoff = 500 * 2 ** Math.max(0, attempt - 1) * (0.75 + Math.random() * 0.25);
  const headers = error instanceof APIError ? (error.headers as Headers | undefined) : undefined;
  return Math.round(Math.max(backoff, askedWaitMs(headers, now) ?? 0));
}

function askedWaitMs(headers: Headers | undefined, now: number): number | undefined {
  const inMs = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  const wait = Number.isFinite(inMs)
    ? inMs
    : retryAfterMs(headers?.get('retry-after') ?? null, now);
  return wait !== undefined && wait >= 0 && wait <= MAX_ASKED_WAIT_MS ? wait : undefined;
}

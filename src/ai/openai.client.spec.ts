import { APIConnectionError, APIError } from 'openai';
import { answerLimit, isRetryable } from 'src/ai/openai.client';

describe('answerLimit', () => {
  it('bounds the answer with max_completion_tokens on OpenAI, which reasoning models require', () => {
    expect(answerLimit('https://api.openai.com/v1')).toEqual({ max_completion_tokens: 700 });
    expect(answerLimit(undefined)).toEqual({ max_completion_tokens: 700 });
  });

  it('keeps max_tokens for compatible servers, which mostly read only that', () => {
    expect(answerLimit('http://localhost:11434/v1/')).toEqual({ max_tokens: 700 });
    expect(answerLimit('https://openai.example.com/v1')).toEqual({ max_tokens: 700 });
  });
});

describe('isRetryable', () => {
  const apiError = (status: number, error: Record<string, unknown>) =>
    APIError.generate(status, { error }, undefined, new Headers());

  it('retries what may pass: lost connections, 408, 409, 429 and 5xx', () => {
    expect(isRetryable(new APIConnectionError({ message: 'socket hang up' }))).toBe(true);
    for (const status of [408, 409, 500, 503]) {
      expect(isRetryable(apiError(status, { message: 'x', type: 'server_error' }))).toBe(true);
    }
    expect(
      isRetryable(apiError(429, { message: 'Rate limit reached', code: 'rate_limit_exceeded' })),
    ).toBe(true);
  });

  it('does not retry a spent quota or a refused request', () => {
    expect(
      isRetryable(
        apiError(429, { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' }),
      ),
    ).toBe(false);
    expect(isRetryable(apiError(400, { message: 'bad', type: 'invalid_request_error' }))).toBe(
      false,
    );
    expect(isRetryable(apiError(401, { message: 'key', code: 'invalid_api_key' }))).toBe(false);
  });
});

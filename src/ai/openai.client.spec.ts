import { APIConnectionError, APIError } from 'openai';
import { answerLimit, isRetryable, retryWaitMs } from 'src/ai/openai.client';

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

describe('retryWaitMs', () => {
  const rateLimited = (headers: Record<string, string>) =>
    APIError.generate(
      429,
      { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
      undefined,
      new Headers(headers),
    );
  const range = (wait: () => number) => {
    const waits = Array.from({ length: 100 }, wait);
    return [Math.min(...waits), Math.max(...waits)];
  };

  it('backs off 0.5 s, 1 s, 2 s, each at a random 75-100%', () => {
    const error = new APIConnectionError({ message: 'socket hang up' });
    for (const [attempt, step] of [
      [1, 500],
      [2, 1_000],
      [3, 2_000],
    ]) {
      const [low, high] = range(() => retryWaitMs(error, attempt));
      expect(low).toBeGreaterThanOrEqual(step * 0.75);
      expect(high).toBeLessThanOrEqual(step);
      expect(high).toBeGreaterThan(low);
    }
  });

  it('waits as long as the server asks: retry-after-ms, else retry-after in seconds or as a date', () => {
    expect(retryWaitMs(rateLimited({ 'retry-after-ms': '2500' }), 1)).toBe(2_500);
    expect(retryWaitMs(rateLimited({ 'retry-after': '3' }), 1)).toBe(3_000);
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(
      retryWaitMs(rateLimited({ 'retry-after': 'Sat, 05 Dec 2026 12:00:04 GMT' }), 1, now),
    ).toBe(4_000);
  });

  it('ignores what the SDK ignores: a wait over 60 s, negative or unreadable', () => {
    const unreadable: Array<Record<string, string>> = [
      { 'retry-after': '600' },
      { 'retry-after-ms': '-5' },
      { 'retry-after': 'soon' },
    ];
    for (const headers of unreadable) {
      const [, high] = range(() => retryWaitMs(rateLimited(headers), 1));
      expect(high).toBeLessThanOrEqual(500);
    }
  });
});

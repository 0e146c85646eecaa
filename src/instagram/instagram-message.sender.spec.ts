import { GraphApiError, waitAskedFor } from 'src/instagram/instagram-graph.client';
import { classifyGraphError, graphFailure } from 'src/instagram/instagram-message.sender';

const graph = (code: number | undefined, subcode?: number, status = 400, retryAfterMs?: number) =>
  new GraphApiError(status, code, subcode, 'x', retryAfterMs);

describe('classifyGraphError (meta-instagram spec §5.3)', () => {
  it.each([1, 2, 4, 17, 32, 613, 80002])('retries code %i', (code) => {
    expect(classifyGraphError(graph(code)).kind).toBe('transient');
  });

  it('keeps the wait Meta asked for', () => {
    expect(classifyGraphError(graph(613, 2534040, 400, 5_000)).retryAfterMs).toBe(5_000);
  });

  it.each([
    [10, 2534022, 'window_closed'],
    [10, 2018278, 'window_closed'],
    [551, undefined, 'recipient_unavailable'],
    [200, 1545041, 'recipient_unavailable'],
    [100, 2534014, 'invalid_parameter'],
    [100, 2534025, 'comment_not_repliable'],
    [613, 2018338, 'tag_misuse'],
    [10, 1893063, 'account_restricted'],
  ])('fails code %s/%s at once as %s, keeping the code', (code, subcode, reason) => {
    const failure = classifyGraphError(graph(code, subcode));
    expect(failure).toMatchObject({ kind: 'permanent', reason });
    expect(failure.record).toContain(`${code}`);
  });

  it('asks for re-authorisation on 190, and on a page link to confirm again (10/2534077, 100/2534013)', () => {
    expect(classifyGraphError(graph(190, 460)).kind).toBe('reauth');
    expect(classifyGraphError(graph(10, 2534077)).kind).toBe('reauth');
    expect(classifyGraphError(graph(100, 2534013)).kind).toBe('reauth');
    expect(classifyGraphError(graph(100, 2534014)).kind).toBe('permanent');
  });

  it('retries an error page without a code from a 5xx', () => {
    expect(classifyGraphError(graph(undefined, undefined, 502)).kind).toBe('transient');
  });

  it('tells a lost answer from a refused connection', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(graphFailure(timeout).kind).toBe('unknown_outcome');
    const refused = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    expect(graphFailure(refused).kind).toBe('transient');
  });
});

describe('waitAskedFor', () => {
  it('reads Retry-After and estimated_time_to_regain_access, taking the longest', () => {
    expect(waitAskedFor(new Headers({ 'retry-after': '3' }))).toBe(3_000);
    const usage = JSON.stringify({
      '17841400000000000': [
        { type: 'instagram', call_count: 100, estimated_time_to_regain_access: 2 },
      ],
    });
    expect(
      waitAskedFor(new Headers({ 'retry-after': '3', 'x-business-use-case-usage': usage })),
    ).toBe(120_000);
    expect(waitAskedFor(new Headers({ 'x-business-use-case-usage': 'not json' }))).toBeUndefined();
  });
});

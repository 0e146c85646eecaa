import { ManyChatApiError } from 'src/manychat/manychat.client';
import {
  classifyManyChatError,
  lookupFailure,
  manyChatFailure,
} from 'src/manychat/manychat-message.sender';

describe('classifyManyChatError (manychat-openai spec A.3)', () => {
  it('fails the window error 3011 at once, whether it came as a 400 or a 200', () => {
    for (const status of [400, 200]) {
      expect(classifyManyChatError(new ManyChatApiError(status, 3011, 'over 24h'))).toMatchObject({
        kind: 'permanent',
        reason: 'window_closed',
      });
    }
  });

  it('fails other refusals at once, retries a 429, and takes a 5xx for a send that may have gone', () => {
    expect(
      classifyManyChatError(new ManyChatApiError(200, undefined, 'Validation error')).kind,
    ).toBe('permanent');
    expect(classifyManyChatError(new ManyChatApiError(401, undefined, 'Wrong token')).reason).toBe(
      'manychat_unauthorized',
    );
    expect(classifyManyChatError(new ManyChatApiError(3042, 3042, 'channel')).kind).toBe(
      'permanent',
    );
    expect(classifyManyChatError(new ManyChatApiError(500, undefined, 'oops')).kind).toBe(
      'unknown_outcome',
    );
    expect(classifyManyChatError(new ManyChatApiError(502, undefined, 'proxy')).kind).toBe(
      'unknown_outcome',
    );
    expect(classifyManyChatError(new ManyChatApiError(429, undefined, 'slow')).kind).toBe(
      'transient',
    );
  });

  it('treats a 2xx it cannot read as an unknown outcome', () => {
    const error = new ManyChatApiError(200, undefined, 'answer is not JSON', undefined, true);
    expect(classifyManyChatError(error).kind).toBe('unknown_outcome');
  });
});

describe('lookupFailure', () => {
  it('retries a lookup whose answer was lost or was a 5xx: it sent nothing', () => {
    const lost = lookupFailure(manyChatFailure(new Error('socket hang up')));
    expect(lost).toMatchObject({ kind: 'transient', reason: 'lookup_failed' });
    expect(lost.record).toBe(
      'lookup_failed: ManyChat subscriber lookup: no answer from ManyChat: socket hang up',
    );
    expect(
      lookupFailure(manyChatFailure(new ManyChatApiError(503, undefined, 'down'))),
    ).toMatchObject({
      kind: 'transient',
      reason: 'lookup_failed',
    });
  });

  it('keeps what other failures mean', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(lookupFailure(manyChatFailure(refused))).toMatchObject({
      kind: 'transient',
      reason: 'provider_unreachable',
    });
    expect(
      lookupFailure(manyChatFailure(new ManyChatApiError(401, undefined, 'Wrong token'))),
    ).toMatchObject({ kind: 'permanent', reason: 'manychat_unauthorized' });
    expect(lookupFailure(manyChatFailure(new ManyChatApiError(429, undefined, 'slow'))).kind).toBe(
      'transient',
    );
  });
});

import { parseManyChatInbound } from 'src/webhook/manychat-inbound';

const parse = (raw: string) => parseManyChatInbound(Buffer.from(raw));

describe('parseManyChatInbound', () => {
  it('keeps every digit of long numeric ids', () => {
    expect(
      parse('{"subscriber_id": 17841400000000123, "ig_id":17841499999999999,"text":"شكد؟"}'),
    ).toEqual({
      subscriberId: '17841400000000123',
      igId: '17841499999999999',
      text: 'شكد؟',
    });
  });

  it('accepts ids as strings and an optional username', () => {
    expect(parse('{"subscriber_id":"123","ig_username":"zahraa","text":"hi"}')).toEqual({
      subscriberId: '123',
      igUsername: 'zahraa',
      text: 'hi',
    });
  });

  it('drops U+0000, which PostgreSQL text cannot hold', () => {
    expect(
      parse('{"subscriber_id":"1","ig_username":"za\\u0000hraa","text":"ha\\u0000lo"}'),
    ).toEqual({ subscriberId: '1', igUsername: 'zahraa', text: 'halo' });
  });

  it.each([
    ['only U+0000 as text', '{"subscriber_id":"1","text":"\\u0000"}', 'text'],
    ['not JSON', '{"subscriber_id":', 'not valid JSON'],
    ['an array', '[1]', 'JSON object'],
    ['no subscriber', '{"text":"x"}', 'subscriber_id'],
    ['a non-numeric subscriber', '{"subscriber_id":"abc","text":"x"}', 'subscriber_id'],
    ['a bad ig_id', '{"subscriber_id":"1","ig_id":"x1","text":"x"}', 'ig_id'],
    ['empty text', '{"subscriber_id":"1","text":"  "}', 'text'],
    ['text not a string', '{"subscriber_id":"1","text":5}', 'text'],
    ['too long text', JSON.stringify({ subscriber_id: '1', text: 'x'.repeat(4001) }), 'at most'],
    ['__proto__', '{"subscriber_id":"1","text":"x","__proto__":{"a":1}}', 'not valid JSON'],
  ])('refuses %s, naming the problem', (_, raw, problem) => {
    const result = parse(raw);
    expect(typeof result).toBe('string');
    expect(result).toContain(problem);
  });
});

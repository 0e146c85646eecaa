import { safeEqual } from 'src/common/safe-equal';
import { isValidMetaSignature, metaSignature } from 'src/webhook/meta-signature';
import { createHmac } from 'node:crypto';

describe('isValidMetaSignature', () => {
  // Meta signs the escaped-unicode bytes it sends; the check must hash exactly those bytes.
  const body = Buffer.from('{"object":"instagram","entry":[{"text":"\\u0634\\u0643\\u062f"}]}');
  const secrets = ['meta-secret', 'instagram-secret'];

  it('accepts a signature made with either secret', () => {
    expect(isValidMetaSignature(body, metaSignature(body, 'meta-secret'), secrets)).toBe(true);
    expect(isValidMetaSignature(body, metaSignature(body, 'instagram-secret'), secrets)).toBe(true);
  });

  it('refuses a wrong secret, a changed body and a re-serialised body', () => {
    expect(isValidMetaSignature(body, metaSignature(body, 'other'), secrets)).toBe(false);
    const changed = Buffer.from(body.toString().replace('instagram', 'instagrann'));
    expect(isValidMetaSignature(changed, metaSignature(body, 'meta-secret'), secrets)).toBe(false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(reserialised.equals(body)).toBe(false);
    expect(isValidMetaSignature(reserialised, metaSignature(body, 'meta-secret'), secrets)).toBe(
      false,
    );
  });

  it.each([
    ['missing', undefined],
    ['repeated', ['sha256=00', 'sha256=00']],
    ['sha1 form', `sha1=${createHmac('sha1', 'meta-secret').update(body).digest('hex')}`],
    ['no prefix', createHmac('sha256', 'meta-secret').update(body).digest('hex')],
    [
      'uppercase hex',
      metaSignature(body, 'meta-secret').toUpperCase().replace('SHA256=', 'sha256='),
    ],
    ['truncated', metaSignature(body, 'meta-secret').slice(0, 70)],
    ['padded', `${metaSignature(body, 'meta-secret')}00`],
    ['non-hex', `sha256=${'z'.repeat(64)}`],
  ])('refuses a %s header', (_, header) => {
    expect(isValidMetaSignature(body, header, secrets)).toBe(false);
  });

  it('refuses everything when no secret is configured', () => {
    expect(isValidMetaSignature(body, metaSignature(body, ''), [])).toBe(false);
  });
});

describe('safeEqual', () => {
  it('compares strings of any length', () => {
    expect(safeEqual('token', 'token')).toBe(true);
    expect(safeEqual('token', 'token2')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });
});

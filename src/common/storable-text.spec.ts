import {
  holdsOnlyStorableText,
  mayHoldUnstorableText,
  storableText,
} from 'src/common/storable-text';

describe('storableText', () => {
  it('drops U+0000', () => {
    expect(storableText('ha\u0000lo\u0000')).toBe('halo');
  });

  it('turns a lone surrogate into U+FFFD and keeps a whole pair', () => {
    expect(storableText('a\ud83d')).toBe('a\ufffd');
    expect(storableText('\ude00b')).toBe('\ufffdb');
    expect(storableText('شكرا \ud83d\ude00')).toBe('شكرا 😀');
  });

  it('leaves ordinary text as it is', () => {
    expect(storableText('بيش القميص؟ 25,000 IQD')).toBe('بيش القميص؟ 25,000 IQD');
  });
});

describe('holdsOnlyStorableText', () => {
  it('finds U+0000 or a lone surrogate in any string, keys included', () => {
    expect(holdsOnlyStorableText({ a: ['x', { b: 'y\u0000' }] })).toBe(false);
    expect(holdsOnlyStorableText({ ['k\ud800']: 1 })).toBe(false);
    expect(holdsOnlyStorableText(['\udc00'])).toBe(false);
  });

  it('passes whole pairs, other values and ordinary text', () => {
    expect(holdsOnlyStorableText({ a: ['😀', 1, null, true], b: { c: 'شكرا' } })).toBe(true);
  });
});

describe('mayHoldUnstorableText', () => {
  it('looks closer only at JSON with an escaped U+0000 or surrogate', () => {
    expect(mayHoldUnstorableText(JSON.stringify({ a: 'x\u0000' }))).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify({ a: 'x\ud83d' }))).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\uD83D\\uDE00"}')).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify({ a: 'شكرا 😀', b: '\u00e9' }))).toBe(false);
  });
});

import { storableText } from 'src/common/storable-text';

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

import { parseModelAnswer } from 'src/ai/model-answer';

const answer = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    reply: 'هلا بيك، القميص بـ 25,000 دينار',
    intent: 'price_inquiry',
    confidence: 0.9,
    needsHuman: false,
    productSkus: ['SKU-1'],
    language: 'ar-IQ',
    ...fields,
  });

describe('parseModelAnswer', () => {
  it('takes an answer that follows the schema, in a code fence or not', () => {
    expect(parseModelAnswer(answer())).toMatchObject({
      intent: 'price_inquiry',
      productSkus: ['SKU-1'],
    });
    expect(parseModelAnswer('```json\n' + answer() + '\n```')?.reply).toBe(
      'هلا بيك، القميص بـ 25,000 دينار',
    );
  });

  it('refuses missing or extra fields, an unknown intent and a blank reply', () => {
    expect(parseModelAnswer(answer({ language: undefined }))).toBeNull();
    expect(parseModelAnswer(answer({ extra: 1 }))).toBeNull();
    expect(parseModelAnswer(answer({ intent: 'weather' }))).toBeNull();
    expect(parseModelAnswer(answer({ reply: '  ' }))).toBeNull();
    expect(parseModelAnswer('not json')).toBeNull();
  });

  it('makes what the model wrote storable: U+0000 dropped, a lone surrogate as U+FFFD', () => {
    const parsed = parseModelAnswer(
      answer({ reply: 'شكرا\u0000 \ud83d', productSkus: ['SKU\u0000-1'], language: 'ar\udc00' }),
    );
    expect(parsed).toMatchObject({
      reply: 'شكرا \ufffd',
      productSkus: ['SKU-1'],
      language: 'ar\ufffd',
    });
    expect(parseModelAnswer(answer({ reply: '\u0000' }))).toBeNull();
  });
});

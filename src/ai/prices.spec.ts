import { figuresIn, statedAmounts, ungroundedAmounts } from 'src/ai/prices';

describe('statedAmounts', () => {
  it.each([
    ['سعره 25,000 دينار', [25000]],
    ['سعره ٢٥٬٠٠٠ د.ع', [25000]],
    ['سعرها 25 ألف', [25000]],
    ['سعرها ٢٥ الف بس', [25000]],
    ['only 25k', [25000]],
    ['25000 IQD', [25000]],
    ['السعر 1.5 مليون', [1500000]],
    ['45.000 دينار', [45000]],
    ['the dress is 65,000 IQD and delivery 5,000', [65000, 5000]],
  ])('reads %s', (text, expected) => {
    expect(statedAmounts(text)).toEqual(expected);
  });

  it.each([
    'قياس 42 متوفر',
    'يوصل خلال 2-3 ايام',
    'رقمنا 07701234567',
    'نفتح الساعة 10 الصبح',
    'خصم 10%',
  ])('does not take %s for a price', (text) => {
    expect(statedAmounts(text)).toEqual([]);
  });
});

describe('ungroundedAmounts', () => {
  const allowed = [25000, 65000, ...figuresIn('التوصيل لبغداد 5 آلاف وباقي المحافظات 8000')];

  it('accepts prices and fees the merchant gave, in any written form, and their sums', () => {
    expect(
      ungroundedAmounts('سعره 25 ألف والتوصيل لبغداد ٥٬٠٠٠ دينار، المجموع 30,000', allowed),
    ).toEqual([]);
    expect(ungroundedAmounts('the dress is 65k, delivery 8,000 IQD', allowed)).toEqual([]);
  });

  it('catches an invented price', () => {
    expect(ungroundedAmounts('سعره 20 الف بس اليوم', allowed)).toEqual([20000]);
    expect(ungroundedAmounts('خصم خاص: 12,500 دينار', allowed)).toEqual([12500]);
  });
});

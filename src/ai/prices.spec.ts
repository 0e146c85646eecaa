import { catalogueFigures, figuresIn, statedAmounts, ungroundedAmounts } from 'src/ai/prices';

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
    ['سعره ٤٥،٠٠٠ دينار', [45000]],
    ['سعره 42', [42000]],
    ['وسعرها ٣٥ بس', [35000]],
    ['بسعر 25 والتوصيل مجاني', [25000]],
    ['٤٢ ألفاً', [42000]],
    ['42 الآف', [42000]],
    ['25 الف 30 الف', [25000, 30000]],
    ['25,000 30,000', [25000, 30000]],
    ['القاط سعره ربع مليون', [250000]],
    ['نص مليون بس', [500000]],
    ['سعره 35 دولار', [35]],
    ['سعره $35', [35]],
  ])('reads %s', (text, expected) => {
    expect(statedAmounts(text)).toEqual(expected);
  });

  it.each([
    'قياس 42 متوفر',
    'يوصل خلال 2-3 ايام',
    'رقمنا 07701234567',
    'نفتح الساعة 10 الصبح',
    'خصم 10%',
    'اتصل على 0770 123 4567',
    'رقمنا +964 770 123 4567',
    'او ٠٧٨٠ ٥٥٥ ١٢٣٤',
    'يوصلك 15/12/2025',
    'موديل 2025',
    'رقم طلبك 4521',
    'عدنا 1500 قطعة',
    'الطول 150 سم',
  ])('does not take %s for a price', (text) => {
    expect(statedAmounts(text)).toEqual([]);
  });
});

describe('ungroundedAmounts', () => {
  // Two products, and a profile's delivery fees of 5,000 (Baghdad) and 8,000.
  const figures = {
    prices: new Set([25000, 65000]),
    extras: figuresIn('التوصيل لبغداد 5 آلاف وباقي المحافظات 8000'),
  };

  it('accepts prices and fees the merchant gave, in any written form', () => {
    expect(ungroundedAmounts('سعره 25 ألف والتوصيل لبغداد ٥٬٠٠٠ دينار', figures)).toEqual([]);
    expect(ungroundedAmounts('the dress is 65k, delivery 8,000 IQD', figures)).toEqual([]);
    expect(ungroundedAmounts('سعره 25', figures)).toEqual([]);
  });

  it('accepts an order: pieces of one product, with a delivery fee', () => {
    expect(ungroundedAmounts('قطعتين بـ 50 الف، ويا التوصيل 58 الف', figures)).toEqual([]);
    expect(ungroundedAmounts('المجموع مع توصيل بغداد 30,000 دينار', figures)).toEqual([]);
  });

  it('accepts a total of amounts the reply itself states', () => {
    expect(
      ungroundedAmounts(
        'الفستان 65 الف والقميص 25 الف، المجموع 90 الف + 5 الاف توصيل = 95 الف',
        figures,
      ),
    ).toEqual([]);
  });

  it('catches an invented price', () => {
    expect(ungroundedAmounts('سعره 20 الف بس اليوم', figures)).toEqual([20000]);
    expect(ungroundedAmounts('خصم خاص: 12,500 دينار', figures)).toEqual([12500]);
    expect(ungroundedAmounts('سعره 42', figures)).toEqual([42000]);
  });

  it('does not add up figures the reply does not state', () => {
    // 90,000 = 65,000 + 25,000 and 13,000 = 5,000 + 8,000, but no order says so.
    expect(ungroundedAmounts('الفستان اليوم بـ 90 الف', figures)).toEqual([90000]);
    expect(ungroundedAmounts('التوصيل 13 الف', figures)).toEqual([13000]);
    // A "was" price is invented too, however the new one is grounded.
    expect(ungroundedAmounts('كان سعره 60 الف وهسه 65 الف', figures)).toEqual([60000]);
  });

  it('leaves phone numbers, dates and counts alone', () => {
    expect(
      ungroundedAmounts(
        'سعره 25 الف، للطلب 0770 123 4567، يوصل 15/12/2025، متوفر 1500 قطعة',
        figures,
      ),
    ).toEqual([]);
  });
});

describe('catalogueFigures', () => {
  it("holds the products' prices and the offers their descriptions state", () => {
    expect([
      ...catalogueFigures([
        { price: 15000, description: 'قطن، قطعتين بـ 28 الف' },
        { price: 65000, description: 'قياس 42، موديل 2025' },
        { price: 20000, description: null },
      ]),
    ]).toEqual([15000, 28000, 65000, 20000]);
  });
});

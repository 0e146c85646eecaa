import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectIntent, INTENTS, type Intent } from 'src/ai/intents';
import { HOLDING_REPLY_AR, offlineReply, type ShopContext } from 'src/ai/offline-replier';
import { catalogueFigures, ungroundedAmounts, figuresIn } from 'src/ai/prices';
import { ProductMatcher, type CatalogueProduct } from 'src/ai/product-matcher';

const labelled = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'test', 'data', 'intents.json'), 'utf8'),
) as Array<{ text: string; intent: Intent }>;

const products: CatalogueProduct[] = [
  {
    sku: 'DR-BLK',
    name: 'فستان سهرة اسود',
    description: 'قماش ساتان، قياسات S الى XL',
    price: 45000,
    currency: 'IQD',
    inStock: true,
    imageUrl: 'https://cdn.example/dr.jpg',
  },
  {
    sku: 'SH-WHT',
    name: 'قميص قطن ابيض',
    description: 'قطن 100%',
    price: 25000,
    currency: 'IQD',
    inStock: true,
    imageUrl: null,
  },
  {
    sku: 'JN-01',
    name: 'بنطلون جينز',
    description: null,
    price: 30000,
    currency: 'IQD',
    inStock: false,
    imageUrl: null,
  },
  {
    sku: 'AB-02',
    name: 'عباية سوداء مطرزة',
    description: 'تطريز يدوي',
    price: 65000,
    currency: 'IQD',
    inStock: true,
    imageUrl: null,
  },
];
const shop: ShopContext = {
  name: 'Bayt Al-Moda',
  profile: {
    displayName: 'بيت الموضة',
    workingHours: 'من السبت للخميس، 10 الصبح لـ 10 بالليل',
    deliveryInfo: 'التوصيل لبغداد 5 آلاف ولباقي المحافظات 8 آلاف، خلال 1-3 ايام',
    returnPolicy: 'الاسترجاع خلال 3 ايام اذا القطعة بحالتها',
    faq: [{ question: 'شنو طرق الدفع؟', answer: 'الدفع عند الاستلام او زين كاش' }],
    handoverMessage: 'هلا بيك، راح يرد عليك موظف من فريقنا 🌷',
  },
};
const allowed = {
  prices: catalogueFigures(products),
  extras: figuresIn(shop.profile.deliveryInfo ?? ''),
};
const matcher = new ProductMatcher(products);

describe('the offline intent detector on the labelled messages (test/data/intents.json)', () => {
  it('covers every intent and dialect spellings', () => {
    expect(labelled.length).toBeGreaterThanOrEqual(80);
    expect(new Set(labelled.map((row) => row.intent))).toEqual(new Set(INTENTS));
    const all = labelled.map((row) => row.text).join(' ');
    for (const word of ['شكد', 'بيش', 'شگد', 'اريد', 'ابي', 'وين', 'شلون', 'متوفر', 'توصيل']) {
      expect(all).toContain(word);
    }
    expect(labelled.some((row) => /[a-z]/i.test(row.text) && /\d/.test(row.text))).toBe(true);
  });

  it('labels at least 90% of them right', () => {
    const wrong = labelled.filter(
      (row) => detectIntent(row.text, matcher.match(row.text).length > 0).intent !== row.intent,
    );
    const accuracy = 1 - wrong.length / labelled.length;
    process.stdout.write(
      `offline intent accuracy: ${(accuracy * 100).toFixed(1)}% (${labelled.length - wrong.length}/${labelled.length})\n`,
    );
    expect(wrong.map((row) => row.text)).toEqual(
      wrong.length / labelled.length <= 0.1 ? expect.any(Array) : [],
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  });
});

describe('offlineReply', () => {
  const reply = (text: string) => offlineReply(text, shop, matcher.match(text));

  it('answers in the language it is given, and with the intent it is given', () => {
    const text = 'black dress?';
    expect(reply(text).language).toBe('en');
    const answer = offlineReply(text, shop, matcher.match(text), {
      intent: 'price_inquiry',
      language: 'ar',
    });
    expect(answer).toMatchObject({ intent: 'price_inquiry', language: 'ar-IQ' });
    expect(answer.reply).toContain('45,000 دينار');
  });

  it('answers a price question with the merchant’s price for the named product', () => {
    const answer = reply('شگد سعر الفستان الاسود؟');
    expect(answer).toMatchObject({
      intent: 'price_inquiry',
      needsHuman: false,
      productSkus: ['DR-BLK'],
      language: 'ar-IQ',
    });
    expect(answer.reply).toContain('45,000 دينار');
  });

  it('matches colloquial spellings and Arabizi to the catalogue', () => {
    expect(reply('بيش البنطرون الجنز').productSkus).toEqual(['JN-01']);
    expect(reply('عدكم عباية سودة؟').productSkus).toEqual(['AB-02']);
    expect(reply('shgad el qamees?').productSkus).toEqual(['SH-WHT']);
  });

  it('says when a product is out of stock', () => {
    expect(reply('البنطلون الجينز متوفر؟').reply).toContain('مو متوفر');
  });

  it('answers a price and a delivery question asked together', () => {
    const answer = reply('شكد سعر الفستان الاسود؟ وتوصلون للبصرة؟');
    expect(answer.reply).toContain('45,000 دينار');
    expect(answer.reply).toContain('8 آلاف');
    expect(answer.productSkus).toEqual(['DR-BLK']);
  });

  it('answers delivery, hours and FAQ questions from the profile', () => {
    expect(reply('توصلون للبصرة؟').reply).toContain('8 آلاف');
    expect(reply('شوكت تفتحون؟').reply).toContain('10 الصبح');
    expect(reply('شنو طرق الدفع عدكم؟').reply).toBe('الدفع عند الاستلام او زين كاش');
  });

  it('says when the colour asked for is not the one the product comes in, and takes no order', () => {
    for (const text of ['عدكم فستان احمر؟', 'اريد فستان سهرة احمر', 'red evening dress price?']) {
      const answer = reply(text);
      expect({ text, skus: answer.productSkus }).toEqual({ text, skus: ['DR-BLK'] });
      expect(answer.reply).toMatch(/^(ما عدنا هذا اللون|We don't have that colour)/);
      expect(answer.reply).not.toContain('الاسم الكامل');
    }
    expect(reply('عدكم فستان سهرة سودة؟').reply).toMatch(/^اي متوفر/);
  });

  it('answers a payment question from the FAQ entry about payment, whatever its words', () => {
    for (const text of ['تقبلون زين كاش؟', 'الدفع عند الاستلام؟', 'can I pay cash on delivery?']) {
      const answer = reply(text);
      expect({ text, intent: answer.intent, needsHuman: answer.needsHuman }).toEqual({
        text,
        intent: 'payment',
        needsHuman: false,
      });
      expect(answer.reply).toBe('الدفع عند الاستلام او زين كاش');
    }
  });

  it('takes a city named after "how much" for a delivery question', () => {
    for (const text of ['شكد لهولير؟', 'شكد لديالى', 'شگد لزاخو', 'how much to basra?']) {
      const answer = reply(text);
      expect({ text, intent: answer.intent }).toEqual({ text, intent: 'delivery' });
      expect(answer.reply).toContain('8 آلاف');
    }
  });

  it('answers Arabizi it knows only by its roots, and Arabic with English words, in Arabic', () => {
    expect(reply('mashkoorin').intent).toBe('thanks');
    for (const text of [
      'ahlan',
      'mashkoorin',
      'tislam eedak',
      'shlonkum',
      'عدكم black dress size M؟',
    ]) {
      expect({ text, language: reply(text).language }).toEqual({ text, language: 'ar-IQ' });
    }
    expect(reply('هاي شنو قماشها؟').intent).toBe('product_inquiry');
  });

  it('hands over what it cannot answer, with the merchant’s message', () => {
    for (const text of [
      'وين طلبي؟',
      'الفستان وصلني مشگوگ',
      'اريد احچي ويا موظف',
      'شنو رأيك بالطقس',
    ]) {
      const answer = reply(text);
      expect(answer.needsHuman).toBe(true);
      expect(answer.reply).toBe(shop.profile.handoverMessage);
    }
  });

  it('answers in English when the customer writes English', () => {
    const answer = reply('how much is the white shirt?');
    expect(answer.language).toBe('en');
    expect(answer.reply).toBe('قميص قطن ابيض is 25,000 IQD and in stock.');
  });

  it('never states a price the merchant did not give', () => {
    for (const row of labelled) {
      expect(ungroundedAmounts(reply(row.text).reply, allowed)).toEqual([]);
    }
    expect(ungroundedAmounts(HOLDING_REPLY_AR, allowed)).toEqual([]);
  });
});

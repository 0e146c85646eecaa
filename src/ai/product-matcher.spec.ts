import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeText, tokens } from 'src/ai/arabic';
import {
  MAX_CONTEXT_PRODUCTS,
  ProductMatcher,
  skeleton,
  type CatalogueProduct,
} from 'src/ai/product-matcher';

/**
 * What matching means, written the direct way: every product scored against every word. The
 * matcher's index must give the same products in the same order.
 */
function matchDirectly(
  products: readonly CatalogueProduct[],
  text: string,
  limit = MAX_CONTEXT_PRODUCTS,
): CatalogueProduct[] {
  const words = tokens(text);
  if (words.length === 0) return [];
  const skeletons = words
    .filter((word) => /^[a-z]/.test(word))
    .map(skeleton)
    .filter((shape) => shape.length >= 2);
  const normalized = normalizeText(text);
  const scored: Array<{ product: CatalogueProduct; score: number }> = [];
  for (const product of products) {
    const nameTokens = new Set(tokens(product.name));
    const allTokens = new Set([
      ...tokens(product.name),
      ...tokens(product.description ?? ''),
      ...tokens(product.sku),
    ]);
    const sku = normalizeText(product.sku);
    let score = 0;
    if (sku && normalized.split(' ').includes(sku)) score += 10;
    for (const word of words) {
      if (nameTokens.has(word)) score += 3;
      else if (allTokens.has(word)) score += 1;
      else if (
        word.length >= 3 &&
        [...nameTokens].some(
          (token) => token.length >= 3 && (token.startsWith(word) || word.startsWith(token)),
        )
      ) {
        score += 1.5;
      }
    }
    for (const token of nameTokens) if (skeletons.includes(skeleton(token))) score += 2;
    if (score > 0) scored.push({ product, score });
  }
  scored.sort((a, b) => b.score - a.score || Number(b.product.inStock) - Number(a.product.inStock));
  return scored.slice(0, limit).map((entry) => entry.product);
}

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const WORDS = [
  'قميص',
  'قمصان',
  'القميص',
  'فستان',
  'فساتين',
  'فسطان',
  'بنطلون',
  'بنطرون',
  'جينز',
  'عباية',
  'عبايات',
  'سوداء',
  'سودة',
  'اسود',
  'الأسود',
  'ابيض',
  'بيضاء',
  'احمر',
  'قطن',
  'قطني',
  'حرير',
  'جلد',
  'جلدي',
  'جاكيت',
  'حذاء',
  'قندرة',
  'رياضي',
  'سهرة',
  'مطرزة',
  'موديل',
  'shirt',
  'dress',
  'black',
  'qamees',
  'fistan',
  'bantaloon',
  'jacket',
  'jaket',
  'cotton',
  'cott',
  'leather',
  'sneakers',
  'sneak',
  'kamis',
  'jeld',
  '2024',
  'xl',
  'شكد',
  'سعر',
  'بكم',
];
const SKUS = ['SH-1', 'DR-BLK', 'AB02', 'jn01', 'X-1', 'ab02', 'SKU 7', ''];

function catalogue(next: () => number, size: number): CatalogueProduct[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  const phrase = (length: number) => Array.from({ length }, () => pick(WORDS)).join(' ');
  return Array.from({ length: size }, (_, i) => ({
    sku: next() < 0.8 ? `${pick(SKUS)}${i}` : pick(SKUS),
    name: phrase(1 + Math.floor(next() * 4)),
    description: next() < 0.3 ? null : phrase(Math.floor(next() * 6)),
    price: 1_000 * (1 + Math.floor(next() * 90)),
    currency: 'IQD',
    inStock: next() < 0.8,
    imageUrl: null,
  }));
}

describe('ProductMatcher', () => {
  it('finds what matching every product against every word finds, in the same order', () => {
    const next = random(20_261_126);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
    for (let round = 0; round < 40; round += 1) {
      const products = catalogue(next, 1 + Math.floor(next() * 150));
      const matcher = new ProductMatcher(products);
      for (let query = 0; query < 25; query += 1) {
        const words = Array.from({ length: Math.floor(next() * 7) }, () =>
          next() < 0.15 ? pick(products).sku : pick(WORDS),
        );
        const text = words.join(next() < 0.5 ? ' ' : '، ');
        const limit = next() < 0.2 ? 50 : MAX_CONTEXT_PRODUCTS;
        expect({ text, found: matcher.match(text, limit) }).toEqual({
          text,
          found: matchDirectly(products, text, limit),
        });
      }
    }
  });

  it('answers the labelled customer messages as the direct way does', () => {
    const labelled = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'test', 'data', 'intents.json'), 'utf8'),
    ) as Array<{ text: string }>;
    const products = catalogue(random(7), 300);
    const matcher = new ProductMatcher(products);
    for (const { text } of labelled) {
      expect(matcher.match(text)).toEqual(matchDirectly(products, text));
    }
  });

  it('serves many turns from one index', () => {
    const products: CatalogueProduct[] = [
      {
        sku: 'DR-BLK',
        name: 'فستان سهرة اسود',
        description: 'ساتان',
        price: 45_000,
        currency: 'IQD',
        inStock: true,
        imageUrl: null,
      },
      {
        sku: 'SH-WHT',
        name: 'قميص قطن ابيض',
        description: null,
        price: 25_000,
        currency: 'IQD',
        inStock: false,
        imageUrl: null,
      },
    ];
    const matcher = new ProductMatcher(products);
    expect(matcher.match('عدكم فستان اسود؟').map((item) => item.sku)).toEqual(['DR-BLK']);
    expect(matcher.match('qamees abyad').map((item) => item.sku)).toEqual(['SH-WHT']);
    expect(matcher.match('عدكم فستان اسود؟').map((item) => item.sku)).toEqual(['DR-BLK']);
    expect(matcher.match('السلام عليكم')).toEqual([]);
  });
});

describe('ProductMatcher on how customers name things', () => {
  const item = (sku: string, name: string, description: string | null = null) => ({
    sku,
    name,
    description,
    price: 20_000,
    currency: 'IQD',
    inStock: true,
    imageUrl: null,
  });
  const matcher = new ProductMatcher([
    item('SUIT-1', 'قاط رجالي', 'قياسات M L XL'),
    item('TSH-W', 'تيشيرت ابيض'),
    item('QMS-B', 'قميص رجالي ازرق'),
    item('CAP-1', 'كلاو رياضي'),
    item('SLP-1', 'نعال صيفي'),
    item('DRS-1', 'فستان سهرة', 'قياسات S M L'),
  ]);
  const first = (text: string) => matcher.match(text)[0]?.sku ?? null;

  it('reads a word however it is split, and the colloquial and English names', () => {
    expect(first('t-shirt price?')).toBe('TSH-W');
    expect(first('شكد سعر تي شيرت')).toBe('TSH-W');
    expect(first('تشيرت ابيض شكد')).toBe('TSH-W');
    expect(first('شكد سعر البدلة الرجالية')).toBe('SUIT-1');
    expect(first('شكد سعر الكاب')).toBe('CAP-1');
    expect(first('how much are the slippers')).toBe('SLP-1');
  });

  it('takes no product from a lone letter or a city name', () => {
    expect(first('twaslon l basra?')).toBeNull();
    expect(first('how much is delivery to kut?')).toBeNull();
  });
});

import { CatalogueCache } from 'src/ai/catalogue-cache';
import type { CatalogueProduct } from 'src/ai/product-matcher';

function product(sku: string, name: string, price: number): CatalogueProduct {
  return { sku, name, description: null, price, currency: 'IQD', inStock: true, imageUrl: null };
}

/** A loader that counts its calls and answers with whatever the catalogue holds then. */
function store(products: CatalogueProduct[]) {
  const loader = {
    products,
    calls: 0,
    load: () => {
      loader.calls += 1;
      return Promise.resolve(loader.products.map((item) => ({ ...item })));
    },
  };
  return loader;
}

const SHIRT = product('SH-1', 'قميص قطن ابيض', 25_000);
const DRESS = product('DR-1', 'فستان سهرة اسود', 45_000);

describe('CatalogueCache', () => {
  it('reuses the catalogue and its index while the version stays', async () => {
    const cache = new CatalogueCache();
    const shop = store([SHIRT, DRESS]);

    const first = await cache.get('m1', '3', shop.load);
    const second = await cache.get('m1', '3', shop.load);

    expect(shop.calls).toBe(1);
    expect(second).toBe(first);
    expect(second.matcher).toBe(first.matcher);
    expect(first.version).toBe(3n);
    expect(first.matcher.match('قميص').map((item) => item.sku)).toEqual(['SH-1']);
    expect([...first.skus]).toEqual(['SH-1', 'DR-1']);
  });

  it('reloads and re-indexes once the version moves, so a new price is seen at once', async () => {
    const cache = new CatalogueCache();
    const shop = store([SHIRT, DRESS]);
    await cache.get('m1', '3', shop.load);

    shop.products = [{ ...SHIRT, price: 27_500 }, DRESS, product('JK-1', 'جاكيت جلد', 80_000)];
    const changed = await cache.get('m1', '4', shop.load);

    expect(shop.calls).toBe(2);
    expect(changed.version).toBe(4n);
    expect(changed.matcher.match('قميص')[0].price).toBe(27_500);
    expect(changed.matcher.match('جاكيت').map((item) => item.sku)).toEqual(['JK-1']);
    expect(changed.skus.has('JK-1')).toBe(true);
  });

  it('keeps a newer catalogue for a reply that read an older version', async () => {
    const cache = new CatalogueCache();
    const shop = store([SHIRT]);
    const newer = await cache.get('m1', '7', shop.load);

    expect(await cache.get('m1', '6', shop.load)).toBe(newer);
    expect(shop.calls).toBe(1);
  });

  it('shares one load between concurrent replies of a merchant', async () => {
    const cache = new CatalogueCache();
    const shop = store([SHIRT, DRESS]);

    const all = await Promise.all([
      cache.get('m1', '1', shop.load),
      cache.get('m1', '1', shop.load),
      cache.get('m1', '1', shop.load),
    ]);

    expect(shop.calls).toBe(1);
    expect(new Set(all).size).toBe(1);
  });

  it('does not let a slow load of an older version replace a newer one', async () => {
    const cache = new CatalogueCache();
    let finishOld!: (products: CatalogueProduct[]) => void;
    const old = cache.get(
      'm1',
      '1',
      () => new Promise<CatalogueProduct[]>((resolve) => (finishOld = resolve)),
    );
    const current = await cache.get('m1', '2', () =>
      Promise.resolve([{ ...SHIRT, price: 30_000 }]),
    );
    finishOld([SHIRT]);
    await old;

    const next = await cache.get('m1', '2', () => Promise.reject(new Error('not loaded again')));
    expect(next).toBe(current);
    expect(next.products[0].price).toBe(30_000);
  });

  it('keeps nothing from a failed load', async () => {
    const cache = new CatalogueCache();
    await expect(
      cache.get('m1', '1', () => Promise.reject(new Error('connection lost'))),
    ).rejects.toThrow('connection lost');

    const shop = store([SHIRT]);
    expect((await cache.get('m1', '1', shop.load)).products).toHaveLength(1);
    expect(shop.calls).toBe(1);
  });

  it('keeps merchants apart: one merchant never sees another’s products', async () => {
    const cache = new CatalogueCache();
    const a = await cache.get('merchant-a', '1', store([SHIRT]).load);
    const b = await cache.get('merchant-b', '1', store([DRESS]).load);

    expect(a.matcher.match('فستان')).toEqual([]);
    expect(b.matcher.match('فستان').map((item) => item.sku)).toEqual(['DR-1']);
    expect(b.skus.has('SH-1')).toBe(false);
  });

  it('drops the least recently used merchant beyond the merchant limit', async () => {
    const cache = new CatalogueCache({ merchants: 2, products: 1_000 });
    const shops = { a: store([SHIRT]), b: store([SHIRT]), c: store([SHIRT]) };
    await cache.get('a', '1', shops.a.load);
    await cache.get('b', '1', shops.b.load);
    await cache.get('a', '1', shops.a.load);
    await cache.get('c', '1', shops.c.load);

    expect(cache.merchants()).toEqual(['a', 'c']);
    await cache.get('b', '1', shops.b.load);
    expect(shops.b.calls).toBe(2);
    expect(shops.a.calls).toBe(1);
  });

  it('bounds the products kept, but always keeps the catalogue just loaded', async () => {
    const cache = new CatalogueCache({ merchants: 10, products: 3 });
    const many = (count: number) =>
      store(Array.from({ length: count }, (_, i) => product(`P-${i}`, `قميص ${i}`, 1_000 + i)));
    await cache.get('a', '1', many(2).load);
    await cache.get('b', '1', many(1).load);
    expect(cache.merchants()).toEqual(['a', 'b']);

    await cache.get('c', '1', many(2).load);
    expect(cache.merchants()).toEqual(['b', 'c']);

    const huge = await cache.get('d', '1', many(5).load);
    expect(cache.merchants()).toEqual(['d']);
    expect(huge.products).toHaveLength(5);
  });

  it('hands out products no reply can change', async () => {
    const cache = new CatalogueCache();
    const catalogue = await cache.get('m1', '1', store([SHIRT]).load);
    expect(Object.isFrozen(catalogue.products)).toBe(true);
    expect(Object.isFrozen(catalogue.products[0])).toBe(true);
  });
});

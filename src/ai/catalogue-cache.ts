import { catalogueFigures } from 'src/ai/prices';
import { ProductMatcher, type CatalogueProduct } from 'src/ai/product-matcher';

/** A merchant's catalogue of one version, indexed for matching; shared by replies, never changed. */
export interface IndexedCatalogue {
  /** The merchant's `catalogue_version` the products were read at (or after). */
  readonly version: bigint;
  readonly products: readonly CatalogueProduct[];
  readonly skus: ReadonlySet<string>;
  readonly matcher: ProductMatcher;
  /** The prices the price guard grounds a reply in (see catalogueFigures). */
  readonly prices: ReadonlySet<number>;
}

export interface CatalogueCacheLimits {
  /** Merchants whose catalogue is kept. */
  merchants: number;
  /** Products kept over all merchants; the most recent catalogue is kept whatever its size. */
  products: number;
}

/**
 * A 5,000-product catalogue and its index take about 7 MB of heap, so the products bound keeps the
 * cache near 140 MB of a worker's 512 MiB: hundreds of small shops or twenty of the largest.
 */
export const DEFAULT_CATALOGUE_CACHE_LIMITS: CatalogueCacheLimits = {
  merchants: 300,
  products: 100_000,
};

/**
 * Each merchant's catalogue and its match index, kept in this process between replies. A reply
 * passes the catalogue version it read with the conversation (the database bumps it on every
 * write to the merchant's products), so a change is seen by the very next reply in every process,
 * and an unchanged catalogue costs no query and no indexing. Concurrent replies of one merchant
 * share one load. Least recently used merchants are dropped beyond the limits.
 */
export class CatalogueCache {
  private readonly entries = new Map<string, IndexedCatalogue>();
  private readonly loads = new Map<string, { version: bigint; done: Promise<IndexedCatalogue> }>();
  private productCount = 0;

  constructor(private readonly limits: CatalogueCacheLimits = DEFAULT_CATALOGUE_CACHE_LIMITS) {}

  /**
   * The merchant's catalogue at `version` or newer. `load` must read the products after the
   * version was read, so that what is kept is never older than the version it is kept under.
   */
  async get(
    merchantId: string,
    version: bigint | string,
    load: () => Promise<CatalogueProduct[]>,
  ): Promise<IndexedCatalogue> {
    const wanted = BigInt(version);
    const cached = this.entries.get(merchantId);
    if (cached && cached.version >= wanted) {
      this.entries.delete(merchantId);
      this.entries.set(merchantId, cached);
      return cached;
    }
    const pending = this.loads.get(merchantId);
    if (pending && pending.version >= wanted) return pending.done;

    const done = load().then((products) => this.keep(merchantId, indexed(wanted, products)));
    this.loads.set(merchantId, { version: wanted, done });
    try {
      return await done;
    } finally {
      if (this.loads.get(merchantId)?.done === done) this.loads.delete(merchantId);
    }
  }

  /** Merchants whose catalogue is kept, least recently used first. */
  merchants(): string[] {
    return [...this.entries.keys()];
  }

  private keep(merchantId: string, catalogue: IndexedCatalogue): IndexedCatalogue {
    const current = this.entries.get(merchantId);
    // A newer version, loaded meanwhile by another reply, stays.
    if (current && current.version > catalogue.version) return catalogue;
    if (current) this.drop(merchantId, current);
    this.entries.set(merchantId, catalogue);
    this.productCount += catalogue.products.length;
    for (const [oldest, entry] of this.entries) {
      const over =
        this.entries.size > this.limits.merchants || this.productCount > this.limits.products;
      if (!over || oldest === merchantId) break;
      this.drop(oldest, entry);
    }
    return catalogue;
  }

  private drop(merchantId: string, entry: IndexedCatalogue): void {
    this.entries.delete(merchantId);
    this.productCount -= entry.products.length;
  }
}

function indexed(version: bigint, products: CatalogueProduct[]): IndexedCatalogue {
  const frozen = products.map((product) => Object.freeze({ ...product }));
  return {
    version,
    products: Object.freeze(frozen),
    skus: new Set(frozen.map((product) => product.sku)),
    matcher: new ProductMatcher(frozen),
    prices: catalogueFigures(frozen),
  };
}

import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { decodeCursor, encodeCursor, pageOf, type Page } from 'src/common/cursor';
import { rowsOf } from 'src/database/sql';
import { isUniqueViolation } from 'src/database/unique-violation';
import {
  DEFAULT_CURRENCY,
  type CreateProductDto,
  type ProductImportResultView,
  type UpdateProductDto,
} from 'src/merchant/dto/product.dto';
import { DuplicateSkuError, ProductNotFoundError } from 'src/merchant/merchant.errors';
import { MerchantService } from 'src/merchant/merchant.service';
import { Product } from 'src/merchant/product.entity';

const SKU_UNIQUE = 'uq_products_merchant_sku';

/** A merchant's catalogue. Every query names the merchant: a product id alone finds nothing. */
@Injectable()
export class ProductService {
  constructor(
    @InjectRepository(Product) private readonly products: Repository<Product>,
    private readonly merchants: MerchantService,
  ) {}

  /** The catalogue in sku order. */
  async list(merchantId: string, limit: number, cursor?: string): Promise<Page<Product>> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    await this.merchants.assertExists(merchantId);
    const query = this.products
      .createQueryBuilder('p')
      .where('p.merchant_id = :merchantId', { merchantId })
      .orderBy('p.sku', 'ASC')
      .addOrderBy('p.id', 'ASC')
      .limit(limit + 1);
    if (after) {
      query.andWhere('(p.sku, p.id) > (:sku, CAST(:id AS uuid))', {
        sku: after.key ?? '',
        id: after.id,
      });
    }
    const rows = await query.getMany();
    return pageOf(
      rows,
      limit,
      (product) => product,
      (product) => encodeCursor(product.sku, product.id),
    );
  }

  async get(merchantId: string, productId: string): Promise<Product> {
    const product = await this.products.findOne({ where: { id: productId, merchantId } });
    if (!product) {
      await this.merchants.assertExists(merchantId);
      throw new ProductNotFoundError();
    }
    return product;
  }

  async create(merchantId: string, input: CreateProductDto): Promise<Product> {
    await this.merchants.assertExists(merchantId);
    const product = this.products.create({
      merchantId,
      sku: input.sku,
      name: input.name.trim(),
      description: input.description ?? null,
      price: input.price,
      currency: input.currency ?? DEFAULT_CURRENCY,
      inStock: input.inStock ?? true,
      imageUrl: input.imageUrl ?? null,
    });
    try {
      return await this.products.save(product);
    } catch (error) {
      if (isUniqueViolation(error, SKU_UNIQUE)) throw new DuplicateSkuError(input.sku);
      throw error;
    }
  }

  async update(merchantId: string, productId: string, patch: UpdateProductDto): Promise<Product> {
    const changes: Partial<Product> = {};
    if (patch.sku !== undefined) changes.sku = patch.sku;
    if (patch.name !== undefined) changes.name = patch.name.trim();
    if (patch.description !== undefined) changes.description = patch.description;
    if (patch.price !== undefined) changes.price = patch.price;
    if (patch.currency !== undefined) changes.currency = patch.currency;
    if (patch.inStock !== undefined) changes.inStock = patch.inStock;
    if (patch.imageUrl !== undefined) changes.imageUrl = patch.imageUrl;
    if (Object.keys(changes).length > 0) {
      try {
        const result = await this.products.update({ id: productId, merchantId }, changes);
        if (!result.affected) return this.get(merchantId, productId);
      } catch (error) {
        if (isUniqueViolation(error, SKU_UNIQUE)) throw new DuplicateSkuError(patch.sku ?? '');
        throw error;
      }
    }
    return this.get(merchantId, productId);
  }

  async remove(merchantId: string, productId: string): Promise<void> {
    const result = await this.products.delete({ id: productId, merchantId });
    if (!result.affected) {
      await this.merchants.assertExists(merchantId);
      throw new ProductNotFoundError();
    }
  }

  /**
   * Creates or replaces (by sku) every product, in one statement: all rows are stored or none.
   * Fields a row leaves out take their defaults, also for a product that existed.
   */
  async import(merchantId: string, products: CreateProductDto[]): Promise<ProductImportResultView> {
    await this.merchants.assertExists(merchantId);
    const rows = await rowsOf<{ created: boolean }>(
      this.products.manager,
      `INSERT INTO products (merchant_id, sku, name, description, price, currency, in_stock, image_url)
       SELECT $1, u.sku, u.name, u.description, u.price, u.currency, u.in_stock, u.image_url
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bool[], $8::text[])
           AS u(sku, name, description, price, currency, in_stock, image_url)
       ON CONFLICT (merchant_id, sku) DO UPDATE SET
         name = EXCLUDED.name,
         description = EXCLUDED.description,
         price = EXCLUDED.price,
         currency = EXCLUDED.currency,
         in_stock = EXCLUDED.in_stock,
         image_url = EXCLUDED.image_url,
         updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [
        merchantId,
        products.map((p) => p.sku),
        products.map((p) => p.name.trim()),
        products.map((p) => p.description ?? null),
        products.map((p) => p.price),
        products.map((p) => p.currency ?? DEFAULT_CURRENCY),
        products.map((p) => p.inStock ?? true),
        products.map((p) => p.imageUrl ?? null),
      ],
    );
    const created = rows.filter((row) => row.created).length;
    return { imported: rows.length, created, updated: rows.length - created };
  }
}

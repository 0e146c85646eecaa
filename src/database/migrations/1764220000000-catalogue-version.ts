import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A merchant's catalogue version: bumped by the database in the same transaction as every insert,
 * update, delete or truncate of products, whoever writes them (admin API, import, SQL). Workers
 * keep each catalogue's match index until the version they read with a conversation moves on.
 * Statement triggers: an import of 5,000 rows bumps the merchant once, not 5,000 times.
 */
export class CatalogueVersion1764220000000 implements MigrationInterface {
  name = 'CatalogueVersion1764220000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "merchants" ADD "catalogue_version" bigint NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(`
      CREATE FUNCTION "bump_catalogue_version"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          UPDATE merchants SET catalogue_version = catalogue_version + 1;
        ELSIF TG_OP = 'INSERT' THEN
          UPDATE merchants SET catalogue_version = catalogue_version + 1
           WHERE id IN (SELECT merchant_id FROM new_products);
        ELSIF TG_OP = 'UPDATE' THEN
          UPDATE merchants SET catalogue_version = catalogue_version + 1
           WHERE id IN (SELECT merchant_id FROM new_products
                        UNION SELECT merchant_id FROM old_products);
        ELSE
          UPDATE merchants SET catalogue_version = catalogue_version + 1
           WHERE id IN (SELECT merchant_id FROM old_products);
        END IF;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "tr_products_catalogue_insert" AFTER INSERT ON "products"
        REFERENCING NEW TABLE AS new_products
        FOR EACH STATEMENT EXECUTE FUNCTION "bump_catalogue_version"()`);
    await queryRunner.query(`
      CREATE TRIGGER "tr_products_catalogue_update" AFTER UPDATE ON "products"
        REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products
        FOR EACH STATEMENT EXECUTE FUNCTION "bump_catalogue_version"()`);
    await queryRunner.query(`
      CREATE TRIGGER "tr_products_catalogue_delete" AFTER DELETE ON "products"
        REFERENCING OLD TABLE AS old_products
        FOR EACH STATEMENT EXECUTE FUNCTION "bump_catalogue_version"()`);
    await queryRunner.query(`
      CREATE TRIGGER "tr_products_catalogue_truncate" AFTER TRUNCATE ON "products"
        FOR EACH STATEMENT EXECUTE FUNCTION "bump_catalogue_version"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const event of ['truncate', 'delete', 'update', 'insert']) {
      await queryRunner.query(`DROP TRIGGER "tr_products_catalogue_${event}" ON "products"`);
    }
    await queryRunner.query(`DROP FUNCTION "bump_catalogue_version"()`);
    await queryRunner.query(`ALTER TABLE "merchants" DROP COLUMN "catalogue_version"`);
  }
}

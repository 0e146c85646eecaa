import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks are routed by `entry.id`, a merchant's Instagram account id or its Page id: the Page id
 * gets an index, as the account id has, so routing and the check that no two merchants share an
 * id read an index instead of every merchant. Not unique: rows written before that check may
 * share a Page id, and routing refuses such an id rather than the migration failing.
 */
export class MerchantPageIndex1764240000000 implements MigrationInterface {
  name = 'MerchantPageIndex1764240000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_merchants_page_id" ON "merchants" ("page_id") WHERE page_id IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_merchants_page_id"`);
  }
}

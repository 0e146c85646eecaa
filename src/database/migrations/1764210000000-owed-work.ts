import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Work Radd owes, findable without Redis: a conversation with a customer message still to answer
 * carries the moment it became owed; outbound messages not yet handed to a provider are indexed.
 */
export class OwedWork1764210000000 implements MigrationInterface {
  name = 'OwedWork1764210000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "conversations" ADD "reply_owed_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_conversations_reply_owed" ON "conversations" ("reply_owed_at") WHERE reply_owed_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_messages_undelivered" ON "messages" ("created_at") WHERE direction = 'out' AND delivery_status IN ('queued', 'unknown')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_messages_undelivered"`);
    await queryRunner.query(`DROP INDEX "ix_conversations_reply_owed"`);
    await queryRunner.query(`ALTER TABLE "conversations" DROP COLUMN "reply_owed_at"`);
  }
}

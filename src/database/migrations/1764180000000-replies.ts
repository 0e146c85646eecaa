import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which reply answered which customer messages: an inbound message points at the reply that
 * answered it, and a bot reply names the last message of its turn (once: a retried AI job finds
 * its reply instead of writing a second one).
 */
export class Replies1764180000000 implements MigrationInterface {
  name = 'Replies1764180000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" ADD "answered_by" uuid`);
    await queryRunner.query(`ALTER TABLE "messages" ADD "answers_through" uuid`);
    await queryRunner.query(
      `ALTER TABLE "messages" ADD CONSTRAINT "fk_messages_answered_by" FOREIGN KEY ("answered_by") REFERENCES "messages" ("id") ON DELETE SET NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "messages" ADD CONSTRAINT "fk_messages_answers_through" FOREIGN KEY ("answers_through") REFERENCES "messages" ("id") ON DELETE SET NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_messages_answers_through" ON "messages" ("answers_through") WHERE answers_through IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_messages_unanswered" ON "messages" ("conversation_id") WHERE direction = 'in' AND answered_by IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_messages_unanswered"`);
    await queryRunner.query(`DROP INDEX "uq_messages_answers_through"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP CONSTRAINT "fk_messages_answers_through"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP CONSTRAINT "fk_messages_answered_by"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "answers_through"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "answered_by"`);
  }
}

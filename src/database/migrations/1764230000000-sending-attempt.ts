import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The attempt that marked a part `sending`: a run whose mark's answer was lost (PostgreSQL went
 * away as it committed) knows it made no call, and its next run finds its own mark by this id
 * and sends the part at once instead of waiting for an echo that cannot come.
 */
export class SendingAttempt1764230000000 implements MigrationInterface {
  name = 'SendingAttempt1764230000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery_parts" ADD "attempt_id" uuid`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery_parts" DROP COLUMN "attempt_id"`);
  }
}

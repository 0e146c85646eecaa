import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Each event of a stored webhook, once: the exactly-once ledger of webhook processing. */
export class InboundEvents1764170000000 implements MigrationInterface {
  name = 'InboundEvents1764170000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "inbound_events" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "webhook_event_id" uuid NOT NULL,
        "merchant_id" uuid,
        "account_id" text NOT NULL,
        "kind" text NOT NULL,
        "event_key" text NOT NULL,
        "status" text NOT NULL,
        "note" text,
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "payload" jsonb NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_inbound_events" PRIMARY KEY ("id"),
        CONSTRAINT "ck_inbound_events_status" CHECK ("status" IN ('applied', 'unrouted', 'ignored')),
        CONSTRAINT "fk_inbound_events_webhook_event" FOREIGN KEY ("webhook_event_id")
          REFERENCES "webhook_events" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_inbound_events_merchant" FOREIGN KEY ("merchant_id")
          REFERENCES "merchants" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_inbound_events_identity" ON "inbound_events" ("account_id", "kind", "event_key")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_inbound_events_webhook_event" ON "inbound_events" ("webhook_event_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "inbound_events"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery records: one row per part of an outbound message (text parts, then an image), keyed
 * by (message, position), with the provider's id and the echo's mid once known. A comment gets
 * at most one private reply.
 */
export class DeliveryParts1764195000000 implements MigrationInterface {
  name = 'DeliveryParts1764195000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "delivery_parts" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "merchant_id" uuid NOT NULL,
        "message_id" uuid NOT NULL,
        "seq" integer NOT NULL,
        "kind" text NOT NULL,
        "text" text,
        "image_url" text,
        "comment_id" text,
        "status" text NOT NULL DEFAULT 'pending',
        "provider_message_id" text,
        "mid" text,
        "attempts" integer NOT NULL DEFAULT 0,
        "error" text,
        "attempted_at" TIMESTAMP WITH TIME ZONE,
        "unknown_since" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_delivery_parts" PRIMARY KEY ("id"),
        CONSTRAINT "ck_delivery_parts_kind" CHECK ("kind" IN ('text', 'image')),
        CONSTRAINT "ck_delivery_parts_status" CHECK ("status" IN ('pending', 'sending', 'sent', 'delivered', 'unknown', 'failed')),
        CONSTRAINT "fk_delivery_parts_merchant" FOREIGN KEY ("merchant_id")
          REFERENCES "merchants" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_delivery_parts_message" FOREIGN KEY ("message_id")
          REFERENCES "messages" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_delivery_parts_message_seq" ON "delivery_parts" ("message_id", "seq")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_delivery_parts_comment" ON "delivery_parts" ("merchant_id", "comment_id") WHERE comment_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_delivery_parts_provider_message" ON "delivery_parts" ("merchant_id", "provider_message_id") WHERE provider_message_id IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "delivery_parts"`);
  }
}

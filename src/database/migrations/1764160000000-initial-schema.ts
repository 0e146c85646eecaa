import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The core schema: merchants (the tenants) and everything that belongs to one of them, plus the
 * raw webhook events stored before they are acknowledged. Ids of Instagram and ManyChat are text.
 */
export class InitialSchema1764160000000 implements MigrationInterface {
  name = 'InitialSchema1764160000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "merchants" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "instagram_account_id" text NOT NULL,
        "page_id" text,
        "delivery_channel" text NOT NULL,
        "profile" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "instagram_access_token" text,
        "manychat_api_key" text,
        "manychat_subscriber_field" text,
        "inbound_secret" text,
        "needs_reauth" boolean NOT NULL DEFAULT false,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_merchants" PRIMARY KEY ("id"),
        CONSTRAINT "ck_merchants_delivery_channel" CHECK ("delivery_channel" IN ('manychat', 'instagram'))
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_merchants_instagram_account" ON "merchants" ("instagram_account_id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "products" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "merchant_id" uuid NOT NULL,
        "sku" text NOT NULL,
        "name" text NOT NULL,
        "description" text,
        "price" integer NOT NULL,
        "currency" text NOT NULL DEFAULT 'IQD',
        "in_stock" boolean NOT NULL DEFAULT true,
        "image_url" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_products" PRIMARY KEY ("id"),
        CONSTRAINT "ck_products_price" CHECK ("price" >= 0),
        CONSTRAINT "fk_products_merchant" FOREIGN KEY ("merchant_id")
          REFERENCES "merchants" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_products_merchant_sku" ON "products" ("merchant_id", "sku")`,
    );

    await queryRunner.query(`
      CREATE TABLE "customers" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "merchant_id" uuid NOT NULL,
        "igsid" text,
        "manychat_subscriber_id" text,
        "username" text,
        "name" text,
        "profile_pic_url" text,
        "profile_fetched_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_customers" PRIMARY KEY ("id"),
        CONSTRAINT "fk_customers_merchant" FOREIGN KEY ("merchant_id")
          REFERENCES "merchants" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_customers_merchant_igsid" ON "customers" ("merchant_id", "igsid") WHERE igsid IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_customers_merchant_manychat" ON "customers" ("merchant_id", "manychat_subscriber_id") WHERE manychat_subscriber_id IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE "conversations" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "merchant_id" uuid NOT NULL,
        "customer_id" uuid NOT NULL,
        "status" text NOT NULL DEFAULT 'open',
        "bot_paused_until" TIMESTAMP WITH TIME ZONE,
        "needs_human" boolean NOT NULL DEFAULT false,
        "last_message_at" TIMESTAMP WITH TIME ZONE,
        "last_customer_message_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_conversations" PRIMARY KEY ("id"),
        CONSTRAINT "ck_conversations_status" CHECK ("status" IN ('open', 'closed')),
        CONSTRAINT "fk_conversations_merchant" FOREIGN KEY ("merchant_id")
          REFERENCES "merchants" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_conversations_customer" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_conversations_merchant_customer" ON "conversations" ("merchant_id", "customer_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_conversations_merchant_recent" ON "conversations" ("merchant_id", "last_message_at", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "messages" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "merchant_id" uuid NOT NULL,
        "conversation_id" uuid NOT NULL,
        "direction" text NOT NULL,
        "sender" text NOT NULL,
        "type" text NOT NULL DEFAULT 'text',
        "text" text,
        "attachments" jsonb NOT NULL DEFAULT '[]'::jsonb,
        "mid" text,
        "provider_message_id" text,
        "intent" text,
        "delivery_status" text,
        "delivery_error" text,
        "channel" text,
        "deleted" boolean NOT NULL DEFAULT false,
        "meta" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_messages" PRIMARY KEY ("id"),
        CONSTRAINT "ck_messages_direction" CHECK ("direction" IN ('in', 'out')),
        CONSTRAINT "ck_messages_sender" CHECK ("sender" IN ('customer', 'bot', 'human')),
        CONSTRAINT "fk_messages_merchant" FOREIGN KEY ("merchant_id")
          REFERENCES "merchants" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_messages_conversation" FOREIGN KEY ("conversation_id")
          REFERENCES "conversations" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_messages_merchant_mid" ON "messages" ("merchant_id", "mid") WHERE mid IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_messages_conversation_recent" ON "messages" ("conversation_id", "occurred_at", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "webhook_events" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "source" text NOT NULL,
        "merchant_id" uuid,
        "raw_body" bytea NOT NULL,
        "status" text NOT NULL DEFAULT 'received',
        "attempts" integer NOT NULL DEFAULT 0,
        "last_error" text,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "processed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "pk_webhook_events" PRIMARY KEY ("id"),
        CONSTRAINT "ck_webhook_events_source" CHECK ("source" IN ('instagram', 'manychat')),
        CONSTRAINT "ck_webhook_events_status" CHECK ("status" IN ('received', 'processed', 'failed'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_webhook_events_pending" ON "webhook_events" ("received_at") WHERE status = 'received'`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_webhook_events_received_at" ON "webhook_events" ("received_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'webhook_events',
      'messages',
      'conversations',
      'customers',
      'products',
      'merchants',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}

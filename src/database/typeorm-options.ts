import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from 'src/config/database.config';
import { Conversation } from 'src/conversation/conversation.entity';
import { Customer } from 'src/conversation/customer.entity';
import { Message } from 'src/conversation/message.entity';
import { MIGRATIONS } from 'src/database/migrations';
import { PreparingClient } from 'src/database/prepared-statements';
import { DeliveryPart } from 'src/delivery/delivery-part.entity';
import { Merchant } from 'src/merchant/merchant.entity';
import { Product } from 'src/merchant/product.entity';
import { InboundEvent } from 'src/webhook/inbound-event.entity';
import { WebhookEvent } from 'src/webhook/webhook-event.entity';

export const ENTITIES = [
  Merchant,
  Product,
  Customer,
  Conversation,
  Message,
  WebhookEvent,
  InboundEvent,
  DeliveryPart,
];

/** The one description of Radd's database, shared by the app, the migration runner and tests. */
export function typeOrmOptions(config: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    uuidExtension: 'pgcrypto',
    extra: {
      max: config.poolSize,
      connectionTimeoutMillis: 5_000,
      application_name: 'radd',
      // A connection whose peer is gone without a word (a failover, a dropped route) is found out
      // by TCP keepalives instead of hanging its queries until the kernel gives up.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Repeated statements are prepared once per connection (src/database/prepared-statements.ts).
      Client: PreparingClient,
    },
  };
}

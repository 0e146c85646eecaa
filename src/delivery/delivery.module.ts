import { Module, type DynamicModule } from '@nestjs/common';
import type { RoleParts } from 'src/config/app.config';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';

/** Outbound messages to customers: the `message-delivery` queue, its producer and its worker. */
@Module({})
export class DeliveryModule {
  static forRole(_role: RoleParts): DynamicModule {
    return {
      module: DeliveryModule,
      providers: [MessageDeliveryProducer],
      exports: [MessageDeliveryProducer],
    };
  }
}

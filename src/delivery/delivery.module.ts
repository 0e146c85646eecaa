import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { perRole } from 'src/common/per-role';
import type { RoleParts } from 'src/config/app.config';
import { DeliveryPart } from 'src/delivery/delivery-part.entity';
import { DeliveryPartStore } from 'src/delivery/delivery-part.store';
import { DeliveryRouter } from 'src/delivery/delivery-router';
import { DEFAULT_DELIVERY_SETTINGS, DELIVERY_SETTINGS } from 'src/delivery/delivery-settings';
import { MessageDeliveryProcessor } from 'src/delivery/message-delivery.processor';
import { MessageDeliveryProducer } from 'src/delivery/message-delivery.producer';
import { MessageDeliveryService } from 'src/delivery/message-delivery.service';
import { SendRateLimiter } from 'src/delivery/send-rate.limiter';
import { UtilityMessagesController } from 'src/delivery/utility-messages.controller';
import { UtilityMessagesService } from 'src/delivery/utility-messages.service';
import { InstagramModule } from 'src/instagram/instagram.module';
import { ManyChatModule } from 'src/manychat/manychat.module';
import { MerchantModule } from 'src/merchant/merchant.module';

/**
 * Outbound messages to customers: the `message-delivery` queue's producer and worker, the
 * delivery records, and the utility-messages route.
 */
@Module({})
export class DeliveryModule {
  static readonly forRole = perRole((role: RoleParts): DynamicModule => ({
    module: DeliveryModule,
    imports: [
      TypeOrmModule.forFeature([DeliveryPart]),
      MerchantModule,
      InstagramModule,
      ManyChatModule,
    ],
    controllers: role.http ? [UtilityMessagesController] : [],
    providers: [
      MessageDeliveryProducer,
      DeliveryPartStore,
      DeliveryRouter,
      // An object per application, so that its timings can be set on the instance (tests).
      { provide: DELIVERY_SETTINGS, useFactory: () => ({ ...DEFAULT_DELIVERY_SETTINGS }) },
      ...(role.http ? [UtilityMessagesService] : []),
      ...(role.worker ? [SendRateLimiter, MessageDeliveryService, MessageDeliveryProcessor] : []),
    ],
    exports: [
      MessageDeliveryProducer,
      DELIVERY_SETTINGS,
      ...(role.worker ? [MessageDeliveryService] : []),
    ],
  }));
}

import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AiModule } from 'src/ai/ai.module';
import { AuthModule } from 'src/auth/auth.module';
import { AllExceptionsFilter } from 'src/common/all-exceptions.filter';
import { loggerParams } from 'src/common/logging';
import { WEBHOOK_POST_ROUTES } from 'src/webhook/webhook-routes';
import { appConfig, roleParts, type AppConfig } from 'src/config/app.config';
import { AppConfigModule } from 'src/config/config.module';
import type { AppRole } from 'src/config/env';
import { ConversationApiModule } from 'src/conversation/conversation-api.module';
import { ConversationModule } from 'src/conversation/conversation.module';
import { DatabaseModule } from 'src/database/database.module';
import { DeliveryModule } from 'src/delivery/delivery.module';
import { HealthModule } from 'src/health/health.module';
import { InstagramModule } from 'src/instagram/instagram.module';
import { ManyChatModule } from 'src/manychat/manychat.module';
import { MerchantApiModule } from 'src/merchant/merchant-api.module';
import { MerchantModule } from 'src/merchant/merchant.module';
import { MetricsModule } from 'src/metrics/metrics.module';
import { OperationsModule } from 'src/operations/operations.module';
import { QueueModule } from 'src/queue/queue.module';
import { RedisModule } from 'src/redis/redis.module';
import { WebhookModule } from 'src/webhook/webhook.module';

/**
 * The whole service. `role` decides what a process does: `api` serves HTTP and only produces jobs,
 * `worker` consumes jobs and serves health only, `all` does both.
 */
@Module({})
export class AppModule {
  static forRole(role: AppRole): DynamicModule {
    const parts = roleParts(role);
    return {
      module: AppModule,
      imports: [
        AppConfigModule,
        LoggerModule.forRootAsync({
          inject: [appConfig.KEY],
          useFactory: (config: AppConfig) =>
            loggerParams(config.logLevel, { api: parts.http, byHook: WEBHOOK_POST_ROUTES }),
        }),
        DatabaseModule,
        MetricsModule,
        RedisModule,
        QueueModule.forRole(parts),
        HealthModule,
        OperationsModule.forRole(parts),
        MerchantModule,
        ConversationModule,
        WebhookModule.forRole(parts),
        AiModule.forRole(parts),
        DeliveryModule.forRole(parts),
        ManyChatModule,
        InstagramModule,
        AuthModule,
        ...(parts.http ? [MerchantApiModule, ConversationApiModule] : []),
      ],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}

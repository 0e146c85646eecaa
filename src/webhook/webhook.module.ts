import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AiModule } from 'src/ai/ai.module';
import { perRole } from 'src/common/per-role';
import type { RoleParts } from 'src/config/app.config';
import { ConversationModule } from 'src/conversation/conversation.module';
import { MerchantModule } from 'src/merchant/merchant.module';
import { AuthFailureLimiter } from 'src/webhook/auth-failure.limiter';
import { CustomerMessageBatch } from 'src/webhook/customer-message.batch';
import { InboundEvent } from 'src/webhook/inbound-event.entity';
import { InstagramWebhookController } from 'src/webhook/instagram-webhook.controller';
import { InstagramWebhookHandler } from 'src/webhook/instagram-webhook.handler';
import { ManyChatWebhookController } from 'src/webhook/manychat-webhook.controller';
import { ManyChatWebhookHandler } from 'src/webhook/manychat-webhook.handler';
import { OutboxSweeper } from 'src/webhook/outbox.sweeper';
import { ProcessWebhookProcessor } from 'src/webhook/process-webhook.processor';
import { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import { WebhookBacklog } from 'src/webhook/webhook-backlog';
import { WebhookEvent } from 'src/webhook/webhook-event.entity';
import { WebhookEventStore } from 'src/webhook/webhook-event.store';
import { WebhookIngestionService } from 'src/webhook/webhook-ingestion.service';

/** Inbound webhooks (Meta, ManyChat): verified, stored, queued; and their processing. */
@Module({})
export class WebhookModule {
  static readonly forRole = perRole((role: RoleParts): DynamicModule => ({
    module: WebhookModule,
    imports: [
      TypeOrmModule.forFeature([WebhookEvent, InboundEvent]),
      MerchantModule,
      ConversationModule,
      AiModule.forRole(role),
    ],
    controllers: role.http ? [InstagramWebhookController, ManyChatWebhookController] : [],
    providers: [
      WebhookEventStore,
      ProcessWebhookProducer,
      WebhookBacklog,
      OutboxSweeper,
      ...(role.http ? [InstagramWebhookHandler, ManyChatWebhookHandler, AuthFailureLimiter] : []),
      ...(role.worker
        ? [WebhookIngestionService, CustomerMessageBatch, ProcessWebhookProcessor]
        : []),
    ],
  }));
}

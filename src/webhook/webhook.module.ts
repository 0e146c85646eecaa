import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhookEvent } from 'src/webhook/webhook-event.entity';

/** Inbound webhooks (Meta, ManyChat): verified, stored, queued. */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEvent])],
})
export class WebhookModule {}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConversationIngestService } from 'src/conversation/conversation-ingest.service';
import { Conversation } from 'src/conversation/conversation.entity';
import { CustomerProfileService } from 'src/conversation/customer-profile.service';
import { Customer } from 'src/conversation/customer.entity';
import { Message } from 'src/conversation/message.entity';
import { InstagramModule } from 'src/instagram/instagram.module';
import { MerchantModule } from 'src/merchant/merchant.module';

/** Customers, their conversation with a merchant, and every message both ways. */
@Module({
  imports: [
    TypeOrmModule.forFeature([Customer, Conversation, Message]),
    MerchantModule,
    InstagramModule,
  ],
  providers: [ConversationIngestService, CustomerProfileService],
  exports: [ConversationIngestService, CustomerProfileService],
})
export class ConversationModule {}

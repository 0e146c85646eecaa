import { Module } from '@nestjs/common';
import { ConversationController } from 'src/conversation/conversation.controller';
import { ConversationService } from 'src/conversation/conversation.service';
import { MerchantApiModule } from 'src/merchant/merchant-api.module';

/** The admin API of conversations and messages (API processes only). */
@Module({
  imports: [MerchantApiModule],
  controllers: [ConversationController],
  providers: [ConversationService],
})
export class ConversationApiModule {}

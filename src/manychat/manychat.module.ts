import { Module } from '@nestjs/common';
import { ManyChatMessageSender } from 'src/manychat/manychat-message.sender';
import { ManyChatClient } from 'src/manychat/manychat.client';

/** Sending through ManyChat's API for merchants who deliver with ManyChat. */
@Module({
  providers: [ManyChatClient, ManyChatMessageSender],
  exports: [ManyChatClient, ManyChatMessageSender],
})
export class ManyChatModule {}

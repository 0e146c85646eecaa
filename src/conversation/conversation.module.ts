import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Conversation } from 'src/conversation/conversation.entity';
import { Customer } from 'src/conversation/customer.entity';
import { Message } from 'src/conversation/message.entity';

/** Customers, their conversation with a merchant, and every message both ways. */
@Module({
  imports: [TypeOrmModule.forFeature([Customer, Conversation, Message])],
})
export class ConversationModule {}

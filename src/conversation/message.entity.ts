import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  JoinColumn,
  ManyToOne,
} from 'typeorm';
import { Conversation } from 'src/conversation/conversation.entity';
import { Merchant } from 'src/merchant/merchant.entity';

export type MessageDirection = 'in' | 'out';
export type MessageSender = 'customer' | 'bot' | 'human';
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'unknown';
export type MessageChannel = 'instagram' | 'manychat';

/** A normalised attachment: the type Meta gave and what its payload said. */
export interface MessageAttachment {
  type: string;
  url?: string;
  title?: string;
  mediaId?: string;
}

/** One message in a conversation, in either direction; `mid` is Instagram's id, unique per merchant. */
@Entity('messages')
@Check('ck_messages_direction', `"direction" IN ('in', 'out')`)
@Check('ck_messages_sender', `"sender" IN ('customer', 'bot', 'human')`)
@Index('uq_messages_merchant_mid', ['merchantId', 'mid'], {
  unique: true,
  where: 'mid IS NOT NULL',
})
@Index('ix_messages_conversation_recent', ['conversationId', 'occurredAt', 'id'])
@Index('uq_messages_answers_through', ['answersThrough'], {
  unique: true,
  where: 'answers_through IS NOT NULL',
})
@Index('ix_messages_unanswered', ['conversationId'], {
  where: "direction = 'in' AND answered_by IS NULL",
})
@Index('ix_messages_undelivered', ['createdAt'], {
  where: "direction = 'out' AND delivery_status IN ('queued', 'unknown')",
})
export class Message {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_messages' })
  id!: string;

  @Column('uuid', { name: 'merchant_id' })
  merchantId!: string;

  @ManyToOne(() => Merchant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'merchant_id', foreignKeyConstraintName: 'fk_messages_merchant' })
  merchant?: Merchant;

  @Column('uuid', { name: 'conversation_id' })
  conversationId!: string;

  @ManyToOne(() => Conversation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'fk_messages_conversation' })
  conversation?: Conversation;

  @Column('text')
  direction!: MessageDirection;

  @Column('text')
  sender!: MessageSender;

  /** `text`, an attachment type (`image`, `story_mention`, …) or `comment`. */
  @Column('text', { default: 'text' })
  type!: string;

  @Column('text', { nullable: true })
  text!: string | null;

  @Column('jsonb', { default: [] })
  attachments!: MessageAttachment[];

  @Column('text', { nullable: true })
  mid!: string | null;

  /** Id the provider (Send API or ManyChat) gave an outbound message. */
  @Column('text', { name: 'provider_message_id', nullable: true })
  providerMessageId!: string | null;

  @Column('text', { nullable: true })
  intent!: string | null;

  @Column('text', { name: 'delivery_status', nullable: true })
  deliveryStatus!: DeliveryStatus | null;

  @Column('text', { name: 'delivery_error', nullable: true })
  deliveryError!: string | null;

  @Column('text', { nullable: true })
  channel!: MessageChannel | null;

  @Column('boolean', { default: false })
  deleted!: boolean;

  /** Everything else the event said (reply_to, referral, quick reply, AI usage): kept, not indexed. */
  @Column('jsonb', { default: {} })
  meta!: Record<string, unknown>;

  /** Inbound: the reply (bot or person) that answered it; null while it waits for one. */
  @Column('uuid', { name: 'answered_by', nullable: true })
  answeredBy!: string | null;

  @ManyToOne(() => Message, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'answered_by', foreignKeyConstraintName: 'fk_messages_answered_by' })
  answeredByMessage?: Message;

  /** Bot reply: the last customer message of the turn it answers (one reply per turn). */
  @Column('uuid', { name: 'answers_through', nullable: true })
  answersThrough!: string | null;

  @ManyToOne(() => Message, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'answers_through', foreignKeyConstraintName: 'fk_messages_answers_through' })
  answersThroughMessage?: Message;

  /** When it happened: Meta's timestamp for inbound, creation for outbound. */
  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

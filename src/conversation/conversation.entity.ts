import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  JoinColumn,
  ManyToOne,
} from 'typeorm';
import { Customer } from 'src/conversation/customer.entity';
import { Merchant } from 'src/merchant/merchant.entity';

export const CONVERSATION_STATUSES = ['open', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** The one thread between a merchant and a customer. */
@Entity('conversations')
@Check('ck_conversations_status', `"status" IN ('open', 'closed')`)
@Index('uq_conversations_merchant_customer', ['merchantId', 'customerId'], { unique: true })
@Index('ix_conversations_merchant_recent', ['merchantId', 'lastMessageAt', 'id'])
@Index('ix_conversations_reply_owed', ['replyOwedAt'], { where: 'reply_owed_at IS NOT NULL' })
export class Conversation {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_conversations' })
  id!: string;

  @Column('uuid', { name: 'merchant_id' })
  merchantId!: string;

  @ManyToOne(() => Merchant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'merchant_id', foreignKeyConstraintName: 'fk_conversations_merchant' })
  merchant?: Merchant;

  @Column('uuid', { name: 'customer_id' })
  customerId!: string;

  @ManyToOne(() => Customer, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_conversations_customer' })
  customer?: Customer;

  @Column('text', { default: 'open' })
  status!: ConversationStatus;

  /** The bot stays quiet here until this moment (a person replied, or an operator paused it). */
  @Column('timestamptz', { name: 'bot_paused_until', nullable: true })
  botPausedUntil!: Date | null;

  /** Waiting for a person: the bot stays quiet until resumed. */
  @Column('boolean', { name: 'needs_human', default: false })
  needsHuman!: boolean;

  @Column('timestamptz', { name: 'last_message_at', nullable: true })
  lastMessageAt!: Date | null;

  /** Start of the 24-hour messaging window. */
  @Column('timestamptz', { name: 'last_customer_message_at', nullable: true })
  lastCustomerMessageAt!: Date | null;

  /**
   * Since when a customer message here waits for an answer (set as it is stored, cleared once a
   * turn is decided): the durable record a lost ai-response job is queued again from.
   */
  @Column('timestamptz', { name: 'reply_owed_at', nullable: true })
  replyOwedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Message } from 'src/conversation/message.entity';
import { Merchant } from 'src/merchant/merchant.entity';

export const PART_KINDS = ['text', 'image'] as const;
export type PartKind = (typeof PART_KINDS)[number];

/**
 * - `pending`: not sent yet (or sent again after its outcome could not be settled);
 * - `sending`: handed to the provider, answer not recorded yet (found so later: a crash);
 * - `sent`: the provider accepted it; `delivered`: Meta's echo of it arrived;
 * - `unknown`: the outcome of a send was lost, waiting for its echo;
 * - `failed`: will not be sent.
 */
export const PART_STATUSES = [
  'pending',
  'sending',
  'sent',
  'delivered',
  'unknown',
  'failed',
] as const;
export type PartStatus = (typeof PART_STATUSES)[number];

/**
 * One message as the provider receives it: a text part of at most 1000 bytes, or the image that
 * follows the text. An outbound message has one row per part (`seq` in order), written before
 * anything is sent, so every part is sent at most once unless its outcome was lost and no echo
 * settled it.
 */
@Entity('delivery_parts')
@Check('ck_delivery_parts_kind', `"kind" IN ('text', 'image')`)
@Check(
  'ck_delivery_parts_status',
  `"status" IN ('pending', 'sending', 'sent', 'delivered', 'unknown', 'failed')`,
)
@Index('uq_delivery_parts_message_seq', ['messageId', 'seq'], { unique: true })
@Index('uq_delivery_parts_comment', ['merchantId', 'commentId'], {
  unique: true,
  where: 'comment_id IS NOT NULL',
})
@Index('ix_delivery_parts_provider_message', ['merchantId', 'providerMessageId'], {
  where: 'provider_message_id IS NOT NULL',
})
export class DeliveryPart {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_delivery_parts' })
  id!: string;

  @Column('uuid', { name: 'merchant_id' })
  merchantId!: string;

  @ManyToOne(() => Merchant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'merchant_id', foreignKeyConstraintName: 'fk_delivery_parts_merchant' })
  merchant?: Merchant;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id', foreignKeyConstraintName: 'fk_delivery_parts_message' })
  message?: Message;

  /** Position in the message, from 0. */
  @Column('integer')
  seq!: number;

  @Column('text')
  kind!: PartKind;

  @Column('text', { nullable: true })
  text!: string | null;

  @Column('text', { name: 'image_url', nullable: true })
  imageUrl!: string | null;

  /** A private reply: the comment it answers (one private reply per comment, ever). */
  @Column('text', { name: 'comment_id', nullable: true })
  commentId!: string | null;

  @Column('text', { default: 'pending' })
  status!: PartStatus;

  /** Meta's message id from the Send API answer (ManyChat gives none). */
  @Column('text', { name: 'provider_message_id', nullable: true })
  providerMessageId!: string | null;

  /** The `mid` of the echo that confirmed it. */
  @Column('text', { nullable: true })
  mid!: string | null;

  /** Sends tried. */
  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('text', { nullable: true })
  error!: string | null;

  /** When the latest send started: an echo within two minutes of it may match by text. */
  @Column('timestamptz', { name: 'attempted_at', nullable: true })
  attemptedAt!: Date | null;

  /** The run's attempt that marked it `sending` (see DeliveryPartStore.markSending). */
  @Column('uuid', { name: 'attempt_id', nullable: true })
  attemptId!: string | null;

  /** When its outcome was found lost: it is sent again if no echo came within the wait. */
  @Column('timestamptz', { name: 'unknown_since', nullable: true })
  unknownSince!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

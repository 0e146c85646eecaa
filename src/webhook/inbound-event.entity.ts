import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Merchant } from 'src/merchant/merchant.entity';
import { WebhookEvent } from 'src/webhook/webhook-event.entity';

export type InboundEventStatus = 'applied' | 'unrouted' | 'ignored';

/**
 * One event of a stored webhook, recorded once: its `(account_id, kind, event_key)` is unique, so a
 * redelivered event (or one repeated inside a POST) finds its row and has no second effect.
 */
@Entity('inbound_events')
@Check('ck_inbound_events_status', `"status" IN ('applied', 'unrouted', 'ignored')`)
@Index('uq_inbound_events_identity', ['accountId', 'kind', 'eventKey'], { unique: true })
@Index('ix_inbound_events_webhook_event', ['webhookEventId'])
export class InboundEvent {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_inbound_events' })
  id!: string;

  @Column('uuid', { name: 'webhook_event_id' })
  webhookEventId!: string;

  @ManyToOne(() => WebhookEvent, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'webhook_event_id',
    foreignKeyConstraintName: 'fk_inbound_events_webhook_event',
  })
  webhookEvent?: WebhookEvent;

  /** Null while no merchant owns the account (unrouted). */
  @Column('uuid', { name: 'merchant_id', nullable: true })
  merchantId!: string | null;

  @ManyToOne(() => Merchant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'merchant_id', foreignKeyConstraintName: 'fk_inbound_events_merchant' })
  merchant?: Merchant;

  /** `entry[].id` the event came under. */
  @Column('text', { name: 'account_id' })
  accountId!: string;

  @Column('text')
  kind!: string;

  @Column('text', { name: 'event_key' })
  eventKey!: string;

  @Column('text')
  status!: InboundEventStatus;

  /** Why it was ignored or unrouted, for people reading the table. */
  @Column('text', { nullable: true })
  note!: string | null;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt!: Date;

  /** The item as Meta sent it. */
  @Column('jsonb')
  payload!: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

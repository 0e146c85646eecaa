import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type WebhookSource = 'instagram' | 'manychat';
export type WebhookEventStatus = 'received' | 'processed' | 'failed';

/**
 * A webhook request body exactly as it arrived, committed before the sender gets its 200.
 * Rows still `received` are what the outbox sweeper queues again.
 */
@Entity('webhook_events')
@Check('ck_webhook_events_source', `"source" IN ('instagram', 'manychat')`)
@Check('ck_webhook_events_status', `"status" IN ('received', 'processed', 'failed')`)
@Index('ix_webhook_events_pending', ['receivedAt'], { where: "status = 'received'" })
@Index('ix_webhook_events_received_at', ['receivedAt'])
export class WebhookEvent {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_events' })
  id!: string;

  @Column('text')
  source!: WebhookSource;

  /** Set when the event belongs to one known merchant (ManyChat); Instagram batches route per entry. */
  @Column('uuid', { name: 'merchant_id', nullable: true })
  merchantId!: string | null;

  @Column('bytea', { name: 'raw_body' })
  rawBody!: Buffer;

  @Column('text', { default: 'received' })
  status!: WebhookEventStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { name: 'received_at', default: () => 'now()' })
  receivedAt!: Date;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt!: Date | null;
}

import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const DELIVERY_CHANNELS = ['manychat', 'instagram'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

export interface FaqEntry {
  question: string;
  answer: string;
}

/** What the bot knows about the shop (INTERFACE §3.5). */
export interface MerchantProfile {
  displayName?: string;
  description?: string;
  tone?: string;
  language?: string;
  workingHours?: string;
  deliveryInfo?: string;
  returnPolicy?: string;
  faq?: FaqEntry[];
  handoverMessage?: string;
}

/** A shop: the tenant every other row belongs to. Credential columns hold ciphertext only. */
@Entity('merchants')
@Check('ck_merchants_delivery_channel', `"delivery_channel" IN ('manychat', 'instagram')`)
@Index('uq_merchants_instagram_account', ['instagramAccountId'], { unique: true })
@Index('ix_merchants_page_id', ['pageId'], { where: 'page_id IS NOT NULL' })
export class Merchant {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_merchants' })
  id!: string;

  @Column('text')
  name!: string;

  /** `entry[].id` of this merchant's Instagram webhooks. */
  @Column('text', { name: 'instagram_account_id' })
  instagramAccountId!: string;

  @Column('text', { name: 'page_id', nullable: true })
  pageId!: string | null;

  @Column('text', { name: 'delivery_channel' })
  deliveryChannel!: DeliveryChannel;

  @Column('jsonb', { default: {} })
  profile!: MerchantProfile;

  @Column('text', { name: 'instagram_access_token', nullable: true })
  instagramAccessToken!: string | null;

  @Column('text', { name: 'manychat_api_key', nullable: true })
  manychatApiKey!: string | null;

  /** Id of the ManyChat custom field that holds a contact's IGSID. */
  @Column('text', { name: 'manychat_subscriber_field', nullable: true })
  manychatSubscriberField!: string | null;

  @Column('text', { name: 'inbound_secret', nullable: true })
  inboundSecret!: string | null;

  @Column('boolean', { name: 'needs_reauth', default: false })
  needsReauth!: boolean;

  /**
   * Bumped by the database on every write to the merchant's products (never by the application);
   * a bigint, read as a string.
   */
  @Column({ type: 'bigint', name: 'catalogue_version', default: 0, insert: false, update: false })
  catalogueVersion!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

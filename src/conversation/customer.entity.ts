import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  JoinColumn,
  ManyToOne,
} from 'typeorm';
import { Merchant } from 'src/merchant/merchant.entity';

/** A person writing to one merchant, known by IGSID and/or ManyChat subscriber id. */
@Entity('customers')
@Index('uq_customers_merchant_igsid', ['merchantId', 'igsid'], {
  unique: true,
  where: 'igsid IS NOT NULL',
})
@Index('uq_customers_merchant_manychat', ['merchantId', 'manychatSubscriberId'], {
  unique: true,
  where: 'manychat_subscriber_id IS NOT NULL',
})
export class Customer {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_customers' })
  id!: string;

  @Column('uuid', { name: 'merchant_id' })
  merchantId!: string;

  @ManyToOne(() => Merchant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'merchant_id', foreignKeyConstraintName: 'fk_customers_merchant' })
  merchant?: Merchant;

  /** Instagram-scoped id of the person for this merchant's account. */
  @Column('text', { nullable: true })
  igsid!: string | null;

  @Column('text', { name: 'manychat_subscriber_id', nullable: true })
  manychatSubscriberId!: string | null;

  @Column('text', { nullable: true })
  username!: string | null;

  @Column('text', { nullable: true })
  name!: string | null;

  @Column('text', { name: 'profile_pic_url', nullable: true })
  profilePicUrl!: string | null;

  @Column('timestamptz', { name: 'profile_fetched_at', nullable: true })
  profileFetchedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

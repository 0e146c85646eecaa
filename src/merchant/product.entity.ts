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
import { Merchant } from 'src/merchant/merchant.entity';

/** One catalogue item of a merchant; `price` is an integer amount in `currency`. */
@Entity('products')
@Check('ck_products_price', `"price" >= 0`)
@Index('uq_products_merchant_sku', ['merchantId', 'sku'], { unique: true })
export class Product {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_products' })
  id!: string;

  @Column('uuid', { name: 'merchant_id' })
  merchantId!: string;

  @ManyToOne(() => Merchant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'merchant_id', foreignKeyConstraintName: 'fk_products_merchant' })
  merchant?: Merchant;

  @Column('text')
  sku!: string;

  @Column('text')
  name!: string;

  @Column('text', { nullable: true })
  description!: string | null;

  @Column('integer')
  price!: number;

  @Column('text', { default: 'IQD' })
  currency!: string;

  @Column('boolean', { name: 'in_stock', default: true })
  inStock!: boolean;

  @Column('text', { name: 'image_url', nullable: true })
  imageUrl!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

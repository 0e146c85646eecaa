import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Merchant } from 'src/merchant/merchant.entity';
import { Product } from 'src/merchant/product.entity';

/** Merchants (the tenants), their profile, credentials and catalogue. */
@Module({
  imports: [TypeOrmModule.forFeature([Merchant, Product])],
})
export class MerchantModule {}

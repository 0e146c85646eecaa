import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MerchantController } from 'src/merchant/merchant.controller';
import { Merchant } from 'src/merchant/merchant.entity';
import { MerchantModule } from 'src/merchant/merchant.module';
import { MerchantService } from 'src/merchant/merchant.service';
import { ProductController } from 'src/merchant/product.controller';
import { Product } from 'src/merchant/product.entity';
import { ProductService } from 'src/merchant/product.service';

/** The admin API of merchants and their catalogue (API processes only). */
@Module({
  imports: [TypeOrmModule.forFeature([Merchant, Product]), MerchantModule],
  controllers: [MerchantController, ProductController],
  providers: [MerchantService, ProductService],
  exports: [MerchantService],
})
export class MerchantApiModule {}

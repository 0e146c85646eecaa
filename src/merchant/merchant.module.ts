import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { MerchantDirectory } from 'src/merchant/merchant-directory';
import { Merchant } from 'src/merchant/merchant.entity';
import { Product } from 'src/merchant/product.entity';

/** Merchants (the tenants), their profile, credentials and catalogue. */
@Module({
  imports: [TypeOrmModule.forFeature([Merchant, Product])],
  providers: [CredentialCipher, MerchantDirectory],
  exports: [CredentialCipher, MerchantDirectory],
})
export class MerchantModule {}

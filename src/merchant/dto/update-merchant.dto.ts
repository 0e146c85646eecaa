import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { NotBlank, OptionalField } from 'src/common/validation';
import { EXTERNAL_ID, EXTERNAL_ID_MESSAGE } from 'src/merchant/dto/create-merchant.dto';
import { MerchantProfileDto } from 'src/merchant/dto/merchant-profile.dto';
import { DELIVERY_CHANNELS, type DeliveryChannel } from 'src/merchant/merchant.entity';

/** A credential given replaces the stored one; `null` removes it; one left out is kept. */
export class UpdateMerchantCredentialsDto {
  @ApiPropertyOptional({ nullable: true, writeOnly: true })
  @IsOptional()
  @IsString()
  @NotBlank()
  @MaxLength(2048)
  instagramAccessToken?: string | null;

  @ApiPropertyOptional({ nullable: true, writeOnly: true })
  @IsOptional()
  @IsString()
  @NotBlank()
  @MaxLength(512)
  manychatApiKey?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  manychatSubscriberField?: string | null;
}

/** Partial update; `instagramAccountId` and `pageId` (webhook routing) need an admin token. */
export class UpdateMerchantDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @OptionalField()
  @IsString()
  @NotBlank()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'admin only' })
  @OptionalField()
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  instagramAccountId?: string;

  @ApiPropertyOptional({ nullable: true, description: 'admin only' })
  @IsOptional()
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  pageId?: string | null;

  @ApiPropertyOptional({ enum: DELIVERY_CHANNELS })
  @OptionalField()
  @IsIn(DELIVERY_CHANNELS)
  deliveryChannel?: DeliveryChannel;

  @ApiPropertyOptional({ type: UpdateMerchantCredentialsDto })
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => UpdateMerchantCredentialsDto)
  credentials?: UpdateMerchantCredentialsDto;

  @ApiPropertyOptional({
    type: MerchantProfileDto,
    description: 'fields given replace, null removes',
  })
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => MerchantProfileDto)
  profile?: MerchantProfileDto;
}

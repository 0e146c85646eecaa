import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
import { MerchantProfileDto } from 'src/merchant/dto/merchant-profile.dto';
import { DELIVERY_CHANNELS, type DeliveryChannel } from 'src/merchant/merchant.entity';

/** Ids Meta and ManyChat give: letters, digits and `_.:-`; `0` is Meta's dashboard test id. */
export const EXTERNAL_ID = /^(?!0$)[A-Za-z0-9_.:-]{1,64}$/;
export const EXTERNAL_ID_MESSAGE = '$property must be 1-64 letters, digits or _.:- (and not 0)';

/** Credentials of the merchant's accounts: stored encrypted, never shown again. */
export class MerchantCredentialsDto {
  @ApiPropertyOptional({ description: 'Instagram (or Page) access token', writeOnly: true })
  @OptionalField()
  @IsString()
  @NotBlank()
  @MaxLength(2048)
  instagramAccessToken?: string;

  @ApiPropertyOptional({ description: 'ManyChat API key', writeOnly: true })
  @OptionalField()
  @IsString()
  @NotBlank()
  @MaxLength(512)
  manychatApiKey?: string;

  @ApiPropertyOptional({ description: 'id of the ManyChat custom field that holds the IGSID' })
  @OptionalField()
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  manychatSubscriberField?: string;
}

export class CreateMerchantDto {
  @ApiProperty({ maxLength: 200, example: 'متجر بغداد' })
  @IsString()
  @NotBlank()
  @MaxLength(200)
  name!: string;

  @ApiProperty({ description: 'entry[].id of the merchant’s Instagram webhooks; unique' })
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  instagramAccountId!: string;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  pageId?: string | null;

  @ApiProperty({ enum: DELIVERY_CHANNELS })
  @IsIn(DELIVERY_CHANNELS)
  deliveryChannel!: DeliveryChannel;

  @ApiPropertyOptional({ type: MerchantCredentialsDto })
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => MerchantCredentialsDto)
  credentials?: MerchantCredentialsDto;

  @ApiPropertyOptional({ type: MerchantProfileDto })
  @OptionalField()
  @IsObject()
  @ValidateNested()
  @Type(() => MerchantProfileDto)
  profile?: MerchantProfileDto;
}

import { ApiProperty } from '@nestjs/swagger';
import { DEFAULT_LANGUAGE, MerchantProfileDto } from 'src/merchant/dto/merchant-profile.dto';
import {
  DELIVERY_CHANNELS,
  type DeliveryChannel,
  type Merchant,
  type MerchantProfile,
} from 'src/merchant/merchant.entity';

/** A merchant as the API shows it: which credentials exist, never their values. */
export class MerchantView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  instagramAccountId!: string;

  @ApiProperty({ type: String, nullable: true })
  pageId!: string | null;

  @ApiProperty({ enum: DELIVERY_CHANNELS })
  deliveryChannel!: DeliveryChannel;

  @ApiProperty({ type: MerchantProfileDto })
  profile!: MerchantProfile;

  @ApiProperty()
  hasInstagramAccessToken!: boolean;

  @ApiProperty()
  hasManychatApiKey!: boolean;

  @ApiProperty({ description: 'Meta refused the token: the account must be connected again' })
  needsReauth!: boolean;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
}

/** The merchant with its ManyChat inbound secret: answered once, at creation and at rotation. */
export class MerchantWithSecretView extends MerchantView {
  @ApiProperty({ description: 'X-Radd-Secret of POST /webhooks/manychat/:id; shown only now' })
  inboundSecret!: string;
}

export class MerchantPageView {
  @ApiProperty({ type: [MerchantView] })
  items!: MerchantView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export function merchantView(merchant: Merchant): MerchantView {
  return {
    id: merchant.id,
    name: merchant.name,
    instagramAccountId: merchant.instagramAccountId,
    pageId: merchant.pageId,
    deliveryChannel: merchant.deliveryChannel,
    profile: { language: DEFAULT_LANGUAGE, ...merchant.profile },
    hasInstagramAccessToken: merchant.instagramAccessToken !== null,
    hasManychatApiKey: merchant.manychatApiKey !== null,
    needsReauth: merchant.needsReauth,
    createdAt: merchant.createdAt,
  };
}

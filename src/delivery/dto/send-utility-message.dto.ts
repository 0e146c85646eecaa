import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, IsUUID, Matches, ValidateBy } from 'class-validator';
import { NotBlank, OptionalField } from 'src/common/validation';
import { EXTERNAL_ID, EXTERNAL_ID_MESSAGE } from 'src/merchant/dto/create-merchant.dto';
import { DELIVERY_CHANNELS, type DeliveryChannel } from 'src/merchant/merchant.entity';

export const MAX_UTILITY_MESSAGE_CHARACTERS = 2000;

/** A string of at most `max` characters (code points: an emoji or an Arabic letter is one). */
function MaxCharacters(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'maxCharacters',
    constraints: [max],
    validator: {
      validate: (value: unknown) => typeof value === 'string' && Array.from(value).length <= max,
      defaultMessage: () => `$property must be at most ${max} characters`,
    },
  });
}

/** `POST /api/utility-messages/:merchantId/send` (INTERFACE §3.7). */
export class SendUtilityMessageDto {
  @ApiPropertyOptional({
    description: "the customer's Instagram-scoped id (or give conversationId)",
  })
  @OptionalField()
  @IsString()
  @Matches(EXTERNAL_ID, { message: EXTERNAL_ID_MESSAGE })
  recipientId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'the conversation (or give recipientId)' })
  @OptionalField()
  @IsUUID('all')
  conversationId?: string;

  @ApiProperty({
    minLength: 1,
    maxLength: MAX_UTILITY_MESSAGE_CHARACTERS,
    description: 'sent in parts of at most 1000 UTF-8 bytes',
  })
  @IsString()
  @NotBlank()
  @MaxCharacters(MAX_UTILITY_MESSAGE_CHARACTERS)
  message!: string;

  @ApiPropertyOptional({
    enum: DELIVERY_CHANNELS,
    description: "default: the merchant's delivery channel",
  })
  @OptionalField()
  @IsIn(DELIVERY_CHANNELS)
  channel?: DeliveryChannel;
}

export class UtilityMessageAccepted {
  @ApiProperty({ format: 'uuid' })
  messageId!: string;

  @ApiProperty({ enum: ['queued'] })
  status!: 'queued';
}

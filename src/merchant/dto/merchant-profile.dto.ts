import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { NotBlank } from 'src/common/validation';

export const DEFAULT_LANGUAGE = 'ar-IQ';
export const MAX_FAQ_ENTRIES = 100;

export class FaqEntryDto {
  @ApiProperty({ maxLength: 500 })
  @IsString()
  @NotBlank()
  @MaxLength(500)
  question!: string;

  @ApiProperty({ maxLength: 2000 })
  @IsString()
  @NotBlank()
  @MaxLength(2000)
  answer!: string;
}

/**
 * What the bot knows about the shop (INTERFACE §3.5). Every field is optional; in a PATCH a
 * field given replaces the stored one, `null` removes it, and a field left out is kept.
 */
export class MerchantProfileDto {
  @ApiPropertyOptional({ maxLength: 200, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  displayName?: string | null;

  @ApiPropertyOptional({ maxLength: 4000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  description?: string | null;

  @ApiPropertyOptional({ maxLength: 500, nullable: true, example: 'friendly, short' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  tone?: string | null;

  @ApiPropertyOptional({ default: DEFAULT_LANGUAGE, nullable: true, example: 'ar-IQ' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, {
    message: '$property must be a language tag such as ar-IQ or en',
  })
  language?: string | null;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  workingHours?: string | null;

  @ApiPropertyOptional({ maxLength: 4000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  deliveryInfo?: string | null;

  @ApiPropertyOptional({ maxLength: 4000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  returnPolicy?: string | null;

  @ApiPropertyOptional({ type: [FaqEntryDto], maxItems: MAX_FAQ_ENTRIES, nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FAQ_ENTRIES)
  @ValidateNested({ each: true })
  @Type(() => FaqEntryDto)
  faq?: FaqEntryDto[] | null;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  handoverMessage?: string | null;
}

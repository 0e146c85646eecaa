import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { NotBlank, OptionalField } from 'src/common/validation';
import type { Product } from 'src/merchant/product.entity';

/** The largest price the `integer` column holds. */
export const MAX_PRICE = 2_147_483_647;
export const DEFAULT_CURRENCY = 'IQD';

export class CreateProductDto {
  @ApiProperty({ maxLength: 64, example: 'DRESS-BLK-M', description: 'unique per merchant' })
  @IsString()
  @Matches(/^\S(.*\S)?$/, { message: '$property must not be empty or start or end with a space' })
  @MaxLength(64)
  sku!: string;

  @ApiProperty({ maxLength: 200, example: 'فستان أسود' })
  @IsString()
  @NotBlank()
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 4000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  description?: string | null;

  @ApiProperty({
    minimum: 0,
    maximum: MAX_PRICE,
    example: 25000,
    description: 'integer, in currency',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE)
  price!: number;

  @ApiPropertyOptional({ default: DEFAULT_CURRENCY, example: 'IQD' })
  @OptionalField()
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: '$property must be a 3-letter ISO 4217 code such as IQD' })
  currency?: string;

  @ApiPropertyOptional({ default: true })
  @OptionalField()
  @IsBoolean()
  inStock?: boolean;

  @ApiPropertyOptional({ nullable: true, example: 'https://cdn.example.com/dress.jpg' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @IsUrl(
    { protocols: ['https', 'http'], require_protocol: true, require_tld: false },
    { message: '$property must be an http(s) URL' },
  )
  imageUrl?: string | null;
}

/** Partial update: fields left out are kept; `description` and `imageUrl` may be set to null. */
export class UpdateProductDto extends PartialType(CreateProductDto, {
  skipNullProperties: false,
}) {}

export class ProductView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  sku!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty()
  price!: number;

  @ApiProperty()
  currency!: string;

  @ApiProperty()
  inStock!: boolean;

  @ApiProperty({ type: String, nullable: true })
  imageUrl!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: Date;
}

export class ProductPageView {
  @ApiProperty({ type: [ProductView] })
  items!: ProductView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ProductImportResultView {
  @ApiProperty({ description: 'rows imported (created + updated)' })
  imported!: number;

  @ApiProperty()
  created!: number;

  @ApiProperty({ description: 'rows whose sku existed: their fields were replaced' })
  updated!: number;
}

export function productView(product: Product): ProductView {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    price: product.price,
    currency: product.currency,
    inStock: product.inStock,
    imageUrl: product.imageUrl,
    createdAt: product.createdAt,
    updatedAt: product.updatedAt,
  };
}

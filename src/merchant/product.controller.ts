import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { MerchantScoped } from 'src/auth/auth.decorators';
import { IMPORT_BODY_LIMIT_BYTES, type BodyLimitRouteConfig } from 'src/common/body-limits';
import { PageQueryDto } from 'src/common/dto/page-query.dto';
import { ParseUuidPipe } from 'src/common/parse-uuid.pipe';
import {
  CreateProductDto,
  ProductImportResultView,
  ProductPageView,
  ProductView,
  productView,
  UpdateProductDto,
} from 'src/merchant/dto/product.dto';
import { MAX_IMPORT_ROWS, productsToImport } from 'src/merchant/product-import';
import { ProductService } from 'src/merchant/product.service';

/** A merchant's catalogue (INTERFACE §3.5). */
@ApiTags('products')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing, malformed or expired token' })
@ApiBadRequestResponse({ description: 'invalid input; the message names the field' })
@ApiNotFoundResponse({ description: 'no such merchant or product, or not the token’s merchant' })
@MerchantScoped('id')
@Controller('api/merchants/:id/products')
export class ProductController {
  constructor(private readonly products: ProductService) {}

  @Get()
  @ApiOperation({ summary: 'List the catalogue in sku order' })
  @ApiOkResponse({ type: ProductPageView })
  async list(
    @Param('id', ParseUuidPipe) id: string,
    @Query() query: PageQueryDto,
  ): Promise<ProductPageView> {
    const page = await this.products.list(id, query.limit, query.cursor);
    return { items: page.items.map(productView), nextCursor: page.nextCursor };
  }

  @Post()
  @ApiCreatedResponse({ type: ProductView })
  @ApiConflictResponse({ description: 'the merchant already has a product with this sku' })
  async create(
    @Param('id', ParseUuidPipe) id: string,
    @Body() body: CreateProductDto,
  ): Promise<ProductView> {
    return productView(await this.products.create(id, body));
  }

  @Post('import')
  @HttpCode(HttpStatus.OK)
  @RouteConfig({ bodyLimit: IMPORT_BODY_LIMIT_BYTES } satisfies BodyLimitRouteConfig)
  @ApiOperation({
    summary: `Create or replace products by sku: a JSON array or CSV, up to ${MAX_IMPORT_ROWS} rows, all or nothing`,
    description:
      'CSV has a header row: sku,name,description,price,currency,inStock,imageUrl (sku, name and price required). ' +
      'Rows are numbered from 1 (the first product); a 400 lists every problem by row and nothing is stored.',
  })
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ type: [CreateProductDto] })
  @ApiOkResponse({ type: ProductImportResultView })
  async import(
    @Param('id', ParseUuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<ProductImportResultView> {
    return this.products.import(id, await productsToImport(body));
  }

  @Get(':productId')
  @ApiOkResponse({ type: ProductView })
  async get(
    @Param('id', ParseUuidPipe) id: string,
    @Param('productId', ParseUuidPipe) productId: string,
  ): Promise<ProductView> {
    return productView(await this.products.get(id, productId));
  }

  @Patch(':productId')
  @ApiOkResponse({ type: ProductView })
  @ApiConflictResponse({ description: 'the merchant already has a product with this sku' })
  async update(
    @Param('id', ParseUuidPipe) id: string,
    @Param('productId', ParseUuidPipe) productId: string,
    @Body() body: UpdateProductDto,
  ): Promise<ProductView> {
    return productView(await this.products.update(id, productId, body));
  }

  @Delete(':productId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'deleted' })
  async remove(
    @Param('id', ParseUuidPipe) id: string,
    @Param('productId', ParseUuidPipe) productId: string,
  ): Promise<void> {
    await this.products.remove(id, productId);
  }
}

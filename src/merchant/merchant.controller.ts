import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminOnly, CurrentUser, MerchantScoped } from 'src/auth/auth.decorators';
import type { Principal } from 'src/auth/principal';
import { PageQueryDto } from 'src/common/dto/page-query.dto';
import { ParseUuidPipe } from 'src/common/parse-uuid.pipe';
import { CreateMerchantDto } from 'src/merchant/dto/create-merchant.dto';
import {
  MerchantPageView,
  MerchantView,
  MerchantWithSecretView,
  merchantView,
} from 'src/merchant/dto/merchant-view.dto';
import { UpdateMerchantDto } from 'src/merchant/dto/update-merchant.dto';
import { MerchantService, type MerchantWithSecret } from 'src/merchant/merchant.service';

/** Merchants (INTERFACE §3.5): operators create and list them; a merchant reads and edits its own. */
@ApiTags('merchants')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing, malformed or expired token' })
@ApiBadRequestResponse({ description: 'invalid input; the message names the field' })
@Controller('api/merchants')
export class MerchantController {
  constructor(private readonly merchants: MerchantService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a merchant (admin); the inbound secret is shown only now' })
  @ApiCreatedResponse({ type: MerchantWithSecretView })
  @ApiConflictResponse({
    description: "instagramAccountId or pageId is already one of another merchant's ids",
  })
  @ApiForbiddenResponse({ description: 'not an admin token' })
  async create(@Body() body: CreateMerchantDto): Promise<MerchantWithSecretView> {
    return withSecret(await this.merchants.create(body));
  }

  @Get()
  @AdminOnly()
  @ApiOperation({ summary: 'List merchants, newest first (admin)' })
  @ApiOkResponse({ type: MerchantPageView })
  @ApiForbiddenResponse({ description: 'not an admin token' })
  async list(@Query() query: PageQueryDto): Promise<MerchantPageView> {
    const page = await this.merchants.list(query.limit, query.cursor);
    return { items: page.items.map(merchantView), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @MerchantScoped('id')
  @ApiOkResponse({ type: MerchantView })
  @ApiNotFoundResponse({ description: 'no such merchant, or not the token’s merchant' })
  async get(@Param('id', ParseUuidPipe) id: string): Promise<MerchantView> {
    return merchantView(await this.merchants.get(id));
  }

  @Patch(':id')
  @MerchantScoped('id')
  @ApiOperation({
    summary: 'Update a merchant; instagramAccountId and pageId need an admin token',
  })
  @ApiOkResponse({ type: MerchantView })
  @ApiNotFoundResponse({ description: 'no such merchant, or not the token’s merchant' })
  @ApiConflictResponse({
    description: "instagramAccountId or pageId is already one of another merchant's ids",
  })
  async update(
    @Param('id', ParseUuidPipe) id: string,
    @Body() body: UpdateMerchantDto,
    @CurrentUser() user: Principal,
  ): Promise<MerchantView> {
    if (
      user.role !== 'admin' &&
      (body.instagramAccountId !== undefined || body.pageId !== undefined)
    ) {
      // These decide whose webhooks reach the merchant: an operator's decision, not the merchant's.
      throw new ForbiddenException('only an admin token may change instagramAccountId or pageId');
    }
    return merchantView(await this.merchants.update(id, body));
  }

  @Post(':id/inbound-secret')
  @HttpCode(HttpStatus.OK)
  @MerchantScoped('id')
  @ApiOperation({ summary: 'Rotate the ManyChat inbound secret; the new one is shown only now' })
  @ApiOkResponse({ type: MerchantWithSecretView })
  @ApiNotFoundResponse({ description: 'no such merchant, or not the token’s merchant' })
  async rotateInboundSecret(
    @Param('id', ParseUuidPipe) id: string,
  ): Promise<MerchantWithSecretView> {
    return withSecret(await this.merchants.rotateInboundSecret(id));
  }
}

function withSecret({ merchant, inboundSecret }: MerchantWithSecret): MerchantWithSecretView {
  return { ...merchantView(merchant), inboundSecret };
}

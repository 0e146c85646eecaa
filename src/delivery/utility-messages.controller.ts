import {
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentUser, MerchantScoped } from 'src/auth/auth.decorators';
import type { Principal } from 'src/auth/principal';
import { ParseUuidPipe } from 'src/common/parse-uuid.pipe';
import { DeliveryQueueUnavailableError } from 'src/delivery/delivery.errors';
import {
  SendUtilityMessageDto,
  UtilityMessageAccepted,
} from 'src/delivery/dto/send-utility-message.dto';
import { UtilityMessagesService } from 'src/delivery/utility-messages.service';

/** A person sends a message to a customer through Radd (INTERFACE §3.7). */
@ApiTags('utility-messages')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing, malformed or expired token' })
@ApiBadRequestResponse({ description: 'invalid input; the message names the field' })
@ApiNotFoundResponse({ description: 'no such conversation, or not the token’s merchant' })
@MerchantScoped('merchantId')
@Controller('api/utility-messages')
export class UtilityMessagesController {
  constructor(private readonly utility: UtilityMessagesService) {}

  @Post(':merchantId/send')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary:
      'Send a person’s message: plain within 24 h of the customer’s last message, tagged ' +
      'HUMAN_AGENT up to 7 days, refused after; follow it in the message’s deliveryStatus',
  })
  @ApiAcceptedResponse({ type: UtilityMessageAccepted })
  @ApiUnprocessableEntityResponse({
    description: 'the messaging window is closed, or the channel cannot be used; says why',
  })
  @ApiServiceUnavailableResponse({ description: 'the delivery queue is unavailable' })
  async send(
    @Param('merchantId', ParseUuidPipe) merchantId: string,
    @Body() body: SendUtilityMessageDto,
    @CurrentUser() principal: Principal,
  ): Promise<UtilityMessageAccepted> {
    try {
      return await this.utility.send(merchantId, body, principal.sub);
    } catch (error) {
      if (error instanceof DeliveryQueueUnavailableError) {
        throw new ServiceUnavailableException('the delivery queue is unavailable, retry later');
      }
      throw error;
    }
  }
}

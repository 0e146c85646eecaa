import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { MerchantScoped } from 'src/auth/auth.decorators';
import { PageQueryDto } from 'src/common/dto/page-query.dto';
import { ParseUuidPipe } from 'src/common/parse-uuid.pipe';
import { ConversationService } from 'src/conversation/conversation.service';
import {
  ConversationListQueryDto,
  ConversationPageView,
  ConversationView,
  MessagePageView,
  PauseConversationDto,
} from 'src/conversation/dto/conversation.dto';

/** A merchant's conversations (INTERFACE §3.6). */
@ApiTags('conversations')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing, malformed or expired token' })
@ApiBadRequestResponse({ description: 'invalid input; the message names the field' })
@ApiNotFoundResponse({
  description: 'no such merchant or conversation, or not the token’s merchant',
})
@MerchantScoped('id')
@Controller('api/merchants/:id/conversations')
export class ConversationController {
  constructor(private readonly conversations: ConversationService) {}

  @Get()
  @ApiOperation({ summary: 'Conversations, latest message first' })
  @ApiOkResponse({ type: ConversationPageView })
  list(
    @Param('id', ParseUuidPipe) id: string,
    @Query() query: ConversationListQueryDto,
  ): Promise<ConversationPageView> {
    return this.conversations.list(
      id,
      { status: query.status, needsHuman: query.needsHuman },
      query.limit,
      query.cursor,
    );
  }

  @Get(':conversationId/messages')
  @ApiOperation({ summary: 'Messages of a conversation, newest first' })
  @ApiOkResponse({ type: MessagePageView })
  messages(
    @Param('id', ParseUuidPipe) id: string,
    @Param('conversationId', ParseUuidPipe) conversationId: string,
    @Query() query: PageQueryDto,
  ): Promise<MessagePageView> {
    return this.conversations.messages(id, conversationId, query.limit, query.cursor);
  }

  @Post(':conversationId/pause')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Silence the bot here for `minutes` (default BOT_PAUSE_ON_HUMAN_MINUTES)',
  })
  @ApiOkResponse({ type: ConversationView })
  pause(
    @Param('id', ParseUuidPipe) id: string,
    @Param('conversationId', ParseUuidPipe) conversationId: string,
    @Body() body: PauseConversationDto,
  ): Promise<ConversationView> {
    return this.conversations.pause(id, conversationId, body.minutes);
  }

  @Post(':conversationId/resume')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Let the bot answer again; also clears needsHuman' })
  @ApiOkResponse({ type: ConversationView })
  resume(
    @Param('id', ParseUuidPipe) id: string,
    @Param('conversationId', ParseUuidPipe) conversationId: string,
  ): Promise<ConversationView> {
    return this.conversations.resume(id, conversationId);
  }
}

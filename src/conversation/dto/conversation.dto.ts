import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { PageQueryDto } from 'src/common/dto/page-query.dto';
import { OptionalField } from 'src/common/validation';
import {
  CONVERSATION_STATUSES,
  type ConversationStatus,
} from 'src/conversation/conversation.entity';
import type {
  DeliveryStatus,
  MessageAttachment,
  MessageChannel,
  MessageDirection,
  MessageSender,
} from 'src/conversation/message.entity';

/** The longest pause an operator may set: 30 days. */
export const MAX_PAUSE_MINUTES = 43_200;

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

export class ConversationListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: CONVERSATION_STATUSES })
  @IsOptional()
  @IsIn(CONVERSATION_STATUSES)
  status?: ConversationStatus;

  @ApiPropertyOptional({ type: Boolean, description: 'only conversations waiting for a person' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && value in BOOLEAN_WORDS ? BOOLEAN_WORDS[value] : value,
  )
  @IsBoolean()
  needsHuman?: boolean;
}

export class PauseConversationDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_PAUSE_MINUTES,
    description: 'default: BOT_PAUSE_ON_HUMAN_MINUTES',
  })
  @OptionalField()
  @IsInt()
  @Min(1)
  @Max(MAX_PAUSE_MINUTES)
  minutes?: number;
}

export class ConversationCustomerView {
  @ApiProperty({ type: String, nullable: true, description: 'Instagram-scoped id' })
  igsid!: string | null;

  @ApiProperty({ type: String, nullable: true })
  username!: string | null;

  @ApiProperty({ type: String, nullable: true })
  name!: string | null;
}

export class ConversationView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: ConversationCustomerView })
  customer!: ConversationCustomerView;

  @ApiProperty({ enum: CONVERSATION_STATUSES })
  status!: ConversationStatus;

  @ApiProperty({ description: 'the bot stays quiet here for now' })
  botPaused!: boolean;

  @ApiProperty({ description: 'waiting for a person' })
  needsHuman!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastMessageAt!: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastCustomerMessageAt!: Date | null;
}

export class ConversationPageView {
  @ApiProperty({ type: [ConversationView] })
  items!: ConversationView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class MessageAttachmentView {
  @ApiProperty({ example: 'image' })
  type!: string;

  @ApiPropertyOptional()
  url?: string;

  @ApiPropertyOptional()
  title?: string;

  @ApiPropertyOptional()
  mediaId?: string;
}

export class MessageView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['in', 'out'] })
  direction!: MessageDirection;

  @ApiProperty({ enum: ['customer', 'bot', 'human'] })
  sender!: MessageSender;

  @ApiProperty({
    description: '`text`, the attachment type (`image`, `story_mention`, …) or `comment`',
  })
  type!: string;

  @ApiProperty({ type: String, nullable: true })
  text!: string | null;

  @ApiProperty({ type: [MessageAttachmentView] })
  attachments!: MessageAttachment[];

  @ApiProperty({ type: String, nullable: true })
  intent!: string | null;

  @ApiProperty({
    enum: ['queued', 'sent', 'delivered', 'read', 'failed', 'unknown'],
    nullable: true,
  })
  deliveryStatus!: DeliveryStatus | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'why the message failed, or why it is still waiting (the last refusal, a pause); null when nothing went wrong',
  })
  deliveryError!: string | null;

  @ApiProperty({ enum: ['instagram', 'manychat'], nullable: true })
  channel!: MessageChannel | null;

  @ApiProperty()
  deleted!: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'when it happened (Meta’s timestamp for inbound messages)',
  })
  createdAt!: Date;
}

export class MessagePageView {
  @ApiProperty({ type: [MessageView] })
  items!: MessageView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

import { Module } from '@nestjs/common';
import { AiReplyScheduler } from 'src/ai/ai-reply.scheduler';

/** The model: context, the call, guards on the reply, and the offline replier. */
@Module({
  providers: [AiReplyScheduler],
  exports: [AiReplyScheduler],
})
export class AiModule {}

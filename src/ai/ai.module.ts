import { Module, type DynamicModule } from '@nestjs/common';
import { AiReplyScheduler } from 'src/ai/ai-reply.scheduler';
import type { RoleParts } from 'src/config/app.config';

/** The model: context, the call, guards on the reply, and the offline replier. */
@Module({})
export class AiModule {
  static forRole(_role: RoleParts): DynamicModule {
    return {
      module: AiModule,
      providers: [AiReplyScheduler],
      exports: [AiReplyScheduler],
    };
  }
}

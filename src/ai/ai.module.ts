import { Module } from '@nestjs/common';

/** The model: context, the call, guards on the reply, and the offline replier. */
@Module({})
export class AiModule {}

import { Module } from '@nestjs/common';

/** Sending through ManyChat's API for merchants who deliver with ManyChat. */
@Module({})
export class ManyChatModule {}

import { Module } from '@nestjs/common';

/** Sending through the Instagram Send API (Graph API). */
@Module({})
export class InstagramModule {}

import { Module } from '@nestjs/common';
import { InstagramGraphClient } from 'src/instagram/instagram-graph.client';
import { InstagramMessageSender } from 'src/instagram/instagram-message.sender';

/** The Instagram Graph API: profile lookups and the Send API. */
@Module({
  providers: [InstagramGraphClient, InstagramMessageSender],
  exports: [InstagramGraphClient, InstagramMessageSender],
})
export class InstagramModule {}

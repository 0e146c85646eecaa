import { Module } from '@nestjs/common';
import { InstagramGraphClient } from 'src/instagram/instagram-graph.client';

/** The Instagram Graph API: profile lookups now, the Send API with delivery. */
@Module({
  providers: [InstagramGraphClient],
  exports: [InstagramGraphClient],
})
export class InstagramModule {}

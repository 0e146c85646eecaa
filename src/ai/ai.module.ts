import { Module, type DynamicModule } from '@nestjs/common';
import { AiReplyScheduler } from 'src/ai/ai-reply.scheduler';
import { AiResponseProcessor } from 'src/ai/ai-response.processor';
import { CatalogueCache } from 'src/ai/catalogue-cache';
import { ConversationAIOrchestrator } from 'src/ai/conversation-ai.orchestrator';
import { InstagramAIService } from 'src/ai/instagram-ai.service';
import { ModelBudget } from 'src/ai/model-budget';
import { OpenAiClient } from 'src/ai/openai.client';
import { ReplySweeper } from 'src/ai/reply.sweeper';
import { perRole } from 'src/common/per-role';
import type { RoleParts } from 'src/config/app.config';
import { DeliveryModule } from 'src/delivery/delivery.module';

/** The model: context, the call, guards on the reply, and the offline replier. */
@Module({})
export class AiModule {
  static readonly forRole = perRole((role: RoleParts): DynamicModule => ({
    module: AiModule,
    imports: [DeliveryModule.forRole(role)],
    providers: [
      AiReplyScheduler,
      ...(role.worker
        ? [
            OpenAiClient,
            InstagramAIService,
            // One per application: the catalogues this worker process keeps between replies.
            { provide: CatalogueCache, useFactory: () => new CatalogueCache() },
            ModelBudget,
            ConversationAIOrchestrator,
            AiResponseProcessor,
            ReplySweeper,
          ]
        : []),
    ],
    exports: [AiReplyScheduler],
  }));
}

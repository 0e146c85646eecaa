import { Module, type DynamicModule } from '@nestjs/common';
import { perRole } from 'src/common/per-role';
import type { RoleParts } from 'src/config/app.config';
import { CleanupProcessor } from 'src/operations/cleanup.processor';
import { CleanupService } from 'src/operations/cleanup.service';
import { MetricsController } from 'src/operations/metrics.controller';
import { QueueAdminController } from 'src/operations/queue-admin.controller';
import { OwedWorkMetrics } from 'src/operations/owed-work.metrics';
import { QueueMetrics } from 'src/operations/queue-metrics';

/** What operators run Radd with: metrics, retention cleanup, queue inspection. */
@Module({})
export class OperationsModule {
  static readonly forRole = perRole((role: RoleParts): DynamicModule => ({
    module: OperationsModule,
    controllers: role.http ? [MetricsController, QueueAdminController] : [MetricsController],
    providers: [
      QueueMetrics,
      OwedWorkMetrics,
      CleanupService,
      ...(role.worker ? [CleanupProcessor] : []),
    ],
    exports: [CleanupService],
  }));
}

import { Controller, Get, Header } from '@nestjs/common';
import { MetricsService } from 'src/metrics/metrics.service';
import { Public } from 'src/auth/auth.decorators';

/** Prometheus scrape endpoint. */
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Radd's Prometheus metrics, in one registry per process. Labels stay bounded: never a message,
 * customer or merchant id.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly aiReplies = new Counter({
    name: 'radd_ai_replies_total',
    help: 'Replies produced by the AI stage, by source (model, offline, guard, holding) and handover',
    labelNames: ['source', 'handover'] as const,
    registers: [this.registry],
  });

  readonly aiTokens = new Counter({
    name: 'radd_ai_tokens_total',
    help: 'Model tokens used, by kind (prompt, completion)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly aiLatency = new Histogram({
    name: 'radd_ai_model_latency_seconds',
    help: 'Latency of model calls, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'radd_' });
  }
}

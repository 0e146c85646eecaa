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

  readonly webhookRequests = new Counter({
    name: 'radd_webhook_requests_total',
    help: 'Webhook requests by source and outcome (accepted, forged, throttled, malformed, unavailable, busy)',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhooksHeld = new Counter({
    name: 'radd_webhooks_held_total',
    help: 'Stored webhook events held in PostgreSQL for the outbox, the process-webhook queue being at WEBHOOK_QUEUE_LIMIT',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: 'radd_webhook_request_duration_seconds',
    help: 'Time to answer a webhook request, by source',
    labelNames: ['source'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: 'radd_jobs_total',
    help: 'Queue jobs this process finished (outcome completed or failed) or found stalled (outcome stalled: its worker died; it runs again), by queue',
    labelNames: ['queue', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'radd_deliveries_total',
    help: 'Outbound message parts by channel, outcome and provider error code ("" when none)',
    labelNames: ['channel', 'outcome', 'code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'radd_' });
  }
}

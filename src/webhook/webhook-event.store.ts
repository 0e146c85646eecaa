import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

interface PendingEvent {
  id: string;
  source: WebhookSource;
  merchantId: string | null;
  rawBody: Buffer;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Events written by one INSERT at most; more wait for the next commit. */
const MAX_BATCH = 256;
/** Commits in flight at once per process (each holds one pooled connection). */
const MAX_IN_FLIGHT = 4;

/**
 * Durable storage of raw webhook bodies with group commit: requests that arrive while a commit is
 * under way are written together by the next one, so each caller still waits for its own durable
 * commit but many share one WAL flush. With no load a request is written at once.
 */
@Injectable()
export class WebhookEventStore {
  private pending: PendingEvent[] = [];
  private inFlight = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Resolves with the event id once the body is committed; rejects when PostgreSQL fails. */
  append(
    source: WebhookSource,
    rawBody: Buffer,
    merchantId: string | null = null,
  ): Promise<string> {
    const id = randomUUID();
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ id, source, merchantId, rawBody, resolve: () => resolve(id), reject });
      if (this.inFlight < MAX_IN_FLIGHT) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight += 1;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await this.dataSource.query(
            `INSERT INTO webhook_events (id, source, merchant_id, raw_body)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bytea[])`,
            [
              batch.map((event) => event.id),
              batch.map((event) => event.source),
              batch.map((event) => event.merchantId),
              batch.map((event) => event.rawBody),
            ],
          );
          batch.forEach((event) => event.resolve());
        } catch (error) {
          batch.forEach((event) => event.reject(error));
        }
      }
    } finally {
      this.inFlight -= 1;
    }
  }
}

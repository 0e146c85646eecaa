import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

interface PendingEvent {
  id: string;
  source: WebhookSource;
  merchantId: string | null;
  rawBody: Buffer;
  /** Epoch ms by which its commit must have begun, or it is refused. */
  deadline: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Events written by one INSERT at most; more wait for the next commit. */
const MAX_BATCH = 256;
/** Commits in flight at once per process (each holds one pooled connection). */
const MAX_IN_FLIGHT = 4;
/** Raw bytes that may wait for a commit; a request beyond them is refused at once. */
export const MAX_WAITING_BYTES = 64 * 1024 * 1024;
/**
 * How long an event may wait for its commit to begin, by source. Meta wants an answer within 5 s
 * and sends again what it did not get: an Instagram event still waiting after 3 s is refused
 * rather than answered late. A ManyChat flow waits about 10 s for its request and sends nothing
 * again, so its message waits longer.
 */
export const MAX_WAIT_MS: Readonly<Record<WebhookSource, number>> = {
  instagram: 3_000,
  manychat: 8_000,
};
/** Refusals are logged in one line per this interval at most. */
const BUSY_LOG_INTERVAL_MS = 10_000;

/**
 * PostgreSQL is not keeping up (or not answering): the event was not stored, and its sender should
 * deliver it again later.
 */
export class WebhookStoreBusyError extends Error {
  constructor(reason: string) {
    super(`webhook storage is busy: ${reason}`);
    this.name = 'WebhookStoreBusyError';
  }
}

/**
 * Durable storage of raw webhook bodies with group commit: requests that arrive while a commit is
 * under way are written together by the next one, so each caller still waits for its own durable
 * commit but many share one WAL flush. With no load a request is written at once.
 *
 * The wait is bounded: when the bodies waiting for a commit pass `MAX_WAITING_BYTES`, or an event
 * has waited its `MAX_WAIT_MS` without its commit beginning, events are refused with
 * `WebhookStoreBusyError` rather than held. A refused event was never written.
 */
@Injectable()
export class WebhookEventStore {
  private readonly logger = new Logger(WebhookEventStore.name);
  private pending: PendingEvent[] = [];
  private waitingBytes = 0;
  private inFlight = 0;
  private expiry: NodeJS.Timeout | null = null;
  private expiryDueAt = Number.POSITIVE_INFINITY;
  private refused = 0;
  private lastBusyLogAt = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Resolves with the event id once the body is committed; rejects when PostgreSQL fails, or with
   * `WebhookStoreBusyError` when the event cannot be written in time.
   */
  append(
    source: WebhookSource,
    rawBody: Buffer,
    merchantId: string | null = null,
  ): Promise<string> {
    if (this.waitingBytes + rawBody.length > MAX_WAITING_BYTES && this.pending.length > 0) {
      this.noteRefusals(1);
      return Promise.reject(
        new WebhookStoreBusyError(`${this.waitingBytes} bytes already wait for a commit`),
      );
    }
    const id = randomUUID();
    return new Promise<string>((resolve, reject) => {
      const deadline = Date.now() + MAX_WAIT_MS[source];
      this.pending.push({
        id,
        source,
        merchantId,
        rawBody,
        deadline,
        resolve: () => resolve(id),
        reject,
      });
      this.waitingBytes += rawBody.length;
      if (this.inFlight < MAX_IN_FLIGHT) void this.flush();
      else if (deadline < this.expiryDueAt) this.armExpiry(deadline);
    });
  }

  private async flush(): Promise<void> {
    this.inFlight += 1;
    try {
      while (this.pending.length > 0) {
        const batch = this.take(MAX_BATCH);
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

  /** The first `count` waiting events, no longer waiting. */
  private take(count: number): PendingEvent[] {
    const taken = this.pending.splice(0, count);
    for (const event of taken) this.waitingBytes -= event.rawBody.length;
    return taken;
  }

  /** Refuses, at `dueAt`, whatever has waited too long by then; again for the next deadline. */
  private armExpiry(dueAt: number): void {
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiryDueAt = dueAt;
    this.expiry = setTimeout(
      () => {
        this.expiry = null;
        this.expiryDueAt = Number.POSITIVE_INFINITY;
        this.expire();
        if (this.pending.length > 0) {
          this.armExpiry(
            this.pending.reduce((soonest, event) => Math.min(soonest, event.deadline), Infinity),
          );
        }
      },
      Math.max(0, dueAt - Date.now()),
    );
    this.expiry.unref();
  }

  private expire(): void {
    const now = Date.now();
    const stale = this.pending.filter((event) => event.deadline <= now);
    if (stale.length === 0) return;
    this.pending = this.pending.filter((event) => event.deadline > now);
    for (const event of stale) {
      this.waitingBytes -= event.rawBody.length;
      event.reject(
        new WebhookStoreBusyError(`no commit began within ${MAX_WAIT_MS[event.source]} ms`),
      );
    }
    this.noteRefusals(stale.length);
  }

  private noteRefusals(count: number): void {
    this.refused += count;
    const now = Date.now();
    if (now - this.lastBusyLogAt < BUSY_LOG_INTERVAL_MS) return;
    this.logger.warn(
      {
        refused: this.refused,
        waiting: this.pending.length,
        waitingBytes: this.waitingBytes,
        commitsInFlight: this.inFlight,
      },
      'PostgreSQL is not keeping up with webhooks: answering some 503 (busy) rather than late',
    );
    this.refused = 0;
    this.lastBusyLogAt = now;
  }
}
